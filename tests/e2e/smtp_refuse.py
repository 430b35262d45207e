"""aiosmtpd handlers for tests: relays that refuse for reasons that are the
operator's to fix (the sender, relaying), and one that refuses a mailbox
for good, each naming the address in its reply as real servers do.

    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_refuse.SenderRefused
(with this directory on PYTHONPATH)."""


class SenderRefused:
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return '553 5.7.1 <%s>: Sender address rejected: not owned by user' % address


class RelayDenied:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return '554 5.7.1 <%s>: Relay access denied' % address


class AuthRequired:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return '530 5.7.0 Authentication required'
