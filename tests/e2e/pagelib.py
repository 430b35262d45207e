"""Helpers shared by the confirmation-page tests (tests/e2e/test_page_*.py).

A page test needs a migrated database with subscribers whose confirmation
request is pending, and the tokens of those requests. Until the engine
creates requests, pending_request() writes the account and token rows the
way the engine does (only the SHA-256 of the token is stored).
"""

import base64
import hashlib
import os
import secrets
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request

import harness

MESSAGE_TYPES = ['confirmation.requested', 'confirmation.reminder', 'subscription.confirmed',
                 'subscription.suspended', 'subscription.reactivated', 'subscriber.erased']

# The headers DESIGN section 8 wants on every page.
SECURITY_HEADERS = ['Referrer-Policy', 'Content-Security-Policy', 'X-Frame-Options',
                    'Cache-Control', 'X-Content-Type-Options']


def new_token():
    """A token in the shape lib/token.c makes: 32 random bytes, base64url, 43 chars."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b'=').decode()


class PageTestCase(harness.DaemonTestCase):
    """A daemon with a migrated database, ready for pending requests."""

    def templates_dir(self):
        """The shipped templates, completed with stub message templates for
        any type not written yet, so the configuration validates."""
        src = os.path.join(harness.SOURCE_DIR, 'etc', 'templates')
        dst = os.path.join(self.tmp, 'templates')
        shutil.copytree(src, dst)
        for t in MESSAGE_TYPES:
            path = os.path.join(dst, 'en', t + '.txt')
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write('Subject: %s\n\n{{subscriber_id}}\n' % t)
        return dst

    def start(self, overrides=None, subscribers=(), locale='en', before_daemon=None):
        """Fresh database, subscribers (recently active, so no pass picks
        them), migrated schema, running daemon answering HTTP.
        before_daemon() runs after the migration, before the daemon starts."""
        self.dsn = self.fresh_db('page')
        self.make_subscribers_table(self.dsn)
        if subscribers:
            self.add_subscribers(self.dsn, subscribers, active_ago='1 hour', locale=locale)
        self.tokens = []
        self.addCleanup(self.check_logs_clean)
        conf = {'email.templates': self.templates_dir()}
        conf.update(overrides or {})
        self.write_config(conf, dsn=self.dsn)
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        if before_daemon:
            before_daemon()
        self.start_daemon()
        self.wait_http('/healthz')
        self.wait_for(lambda: self.http('/healthz')[0] == 200, what='/healthz 200')

    def check_logs_clean(self):
        """Whatever a test did, the logs name no token and no address."""
        text = self.log_text()
        for token in self.tokens:
            self.assertNotIn(token, text)
        self.assertNotIn('@example.com', text)

    def pending_request(self, sid, deadline="now() + interval '30 days'", cycle=1):
        """Make subscriber sid pending with a delivered request; return its token."""
        token = new_token()
        self.tokens.append(token)
        digest = hashlib.sha256(token.encode()).digest()
        self.psql(self.dsn,
                  "INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,"
                  " delivered_at, deadline) VALUES (%s, 'pending', %s, 'inactive', now(), now(), "
                  + deadline + ") ON CONFLICT (subscriber_id) DO UPDATE SET state = 'pending',"
                  " cycle = EXCLUDED.cycle, deadline = EXCLUDED.deadline",
                  (sid, cycle))
        self.psql(self.dsn, 'INSERT INTO dormant.token (hash, subscriber_id, cycle)'
                  ' VALUES (%s, %s, %s)', (digest, sid, cycle))
        return token

    def snapshot(self):
        """Everything an answer may change, for before/after comparisons."""
        q = lambda sql: self.psql(self.dsn, sql)
        return {
            'accounts': q('SELECT subscriber_id, state, cycle, deadline, confirmed_at,'
                          ' suspended_at, updated_at FROM dormant.account ORDER BY 1'),
            'tokens': q('SELECT hash, subscriber_id FROM dormant.token ORDER BY 1'),
            'events': q('SELECT count(*) FROM dormant.event'),
            'outbox': q('SELECT count(*) FROM dormant.outbox'),
            'billing': q('SELECT id, billing_status FROM subscribers ORDER BY 1'),
        }

    def post(self, path, action, headers=None, timeout=30):
        return self.http(path, method='POST', data={'action': action}, headers=headers,
                         timeout=timeout)

    def assert_security_headers(self, headers, what=''):
        for name in SECURITY_HEADERS:
            self.assertIsNotNone(headers.get(name), '%s missing on %s' % (name, what))
        csp = headers.get('Content-Security-Policy')
        for part in ("default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"):
            self.assertIn(part, csp)
        self.assertEqual(headers.get('Referrer-Policy'), 'no-referrer')
        self.assertEqual(headers.get('X-Frame-Options'), 'DENY')
        self.assertEqual(headers.get('Cache-Control'), 'no-store')


def parallel(fns):
    """Run the callables at once (one thread each, released together); return
    their results in order."""
    results = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i):
        barrier.wait()
        try:
            results[i] = fns[i]()
        except Exception as e:  # reported by the caller's assertions
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def raw_status(url, method='GET', data=None, headers=None, timeout=30):
    """Status code of one request (any status), without raising."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code
