"""Run Debian's aiosmtpd as a real SMTP server for the delivery tests."""

import email
import email.policy
import mailbox
import os
import socket
import subprocess
import time

import harness

PYTHON = '/usr/bin/python3'


class SmtpServer:
    """aiosmtpd on 127.0.0.1:port storing mail into a Maildir (or, with
    handler='smtp_reject.Reject', refusing every recipient with 550)."""

    def __init__(self, tmp, port=None, handler=None):
        self.port = port or harness.free_port()
        self.maildir = os.path.join(tmp, 'maildir-%d' % self.port)
        args = [PYTHON, '-m', 'aiosmtpd', '-n', '-l', '127.0.0.1:%d' % self.port]
        if handler is None:
            args += ['-c', 'aiosmtpd.handlers.Mailbox', self.maildir]
        else:
            args += ['-c', handler]
        env = dict(os.environ)
        env['PYTHONPATH'] = harness.HERE + os.pathsep + env.get('PYTHONPATH', '')
        self.log = open(os.path.join(tmp, 'smtpd-%d.log' % self.port), 'wb')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError('aiosmtpd did not start on port %d' % self.port)
                time.sleep(0.05)

    @property
    def url(self):
        return 'smtp://127.0.0.1:%d' % self.port

    def messages(self):
        """Every stored message, parsed with the email package."""
        if not os.path.isdir(os.path.join(self.maildir, 'new')):
            return []
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        out = []
        for key in box.keys():
            with box.get_file(key) as f:
                out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
