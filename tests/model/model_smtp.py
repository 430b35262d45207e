"""aiosmtpd handler for the model test's email histories: a real SMTP
server that refuses the recipients listed in MODEL_SMTP_REFUSED (comma
separated) with 550, and writes every accepted message as one JSON line
(arrival time, envelope recipients, To, Message-ID, subject, text part) to
the file MODEL_SMTP_LOG.

    MODEL_SMTP_LOG=FILE /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c model_smtp.Sink
(with this directory on PYTHONPATH)."""

import email
import email.policy
import json
import os
import time


class Sink:
    def __init__(self):
        self.log = os.environ['MODEL_SMTP_LOG']
        self.refused = set(a for a in os.environ.get('MODEL_SMTP_REFUSED', '').split(',') if a)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return '550 5.1.1 mailbox unavailable'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        t = time.time()
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        try:
            part = msg.get_body(('plain',))
            text = part.get_content() if part is not None else ''
        except (KeyError, LookupError, ValueError):
            text = ''
        rec = {'t': t, 'rcpt': list(envelope.rcpt_tos), 'to': str(msg['To'] or ''),
               'message_id': str(msg['Message-ID'] or ''), 'subject': str(msg['Subject'] or ''),
               'text': text}
        with open(self.log, 'a') as f:
            f.write(json.dumps(rec) + '\n')
        return '250 Message accepted for delivery'
