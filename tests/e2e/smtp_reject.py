"""aiosmtpd handler for tests: refuses every recipient with 550, like a
server that knows the mailbox does not exist.

    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_reject.Reject
(with this directory on PYTHONPATH)."""


class Reject:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return '550 5.1.1 mailbox unavailable'
