"""DESIGN section 8's limits on the confirmation page. Issue 11 case 7: the
limiter checked the client's address before the token, so after forged
tokens from one address a valid link from it got 429 (and behind a proxy
everyone shares an address); a client that dribbled one header line a
second stayed connected for 37 s.

- Rate limits fall on failed tokens only: a working link is never refused
  because of other clients' failed tokens.
- http.trusted_proxies: the peers whose X-Forwarded-For is believed
  (default 127.0.0.1 and ::1).
- A connection is closed 10 s after it opened unless its request is complete.
- Under overload the page answers 503 with Retry-After and changes nothing.
"""

import hashlib
import http.client
import socket
import threading
import time

import harness
import pagelib
from pagelib import new_token


def request_from(source, port, path, method='GET', headers=None, body=None):
    """One request from the local address source (127.0.0.0/8 is all this
    host's); returns (status, headers)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status, r.headers
    finally:
        conn.close()


class FailedTokensOnly(pagelib.PageTestCase):

    def test_forged_tokens_never_block_a_working_link(self):
        self.start(subscribers=[1, 2])
        t1 = self.pending_request(1)
        attacker = {'X-Forwarded-For': '203.0.113.7'}
        statuses = [self.http('/c/' + new_token(), headers=attacker)[0] for _ in range(100)]
        self.assertEqual(statuses[-1], 429, statuses)  # the forgeries are held back ...
        # ... but a subscriber behind the same address answers at once.
        status, headers, body = self.http('/c/' + t1, headers=attacker)
        self.assertEqual(status, 200)
        self.assertEqual(self.post('/c/' + t1, 'keep', headers=attacker)[0], 200)
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 1'), 'active')
        # Forgeries from there are still refused, with Retry-After.
        status, headers, _ = self.http('/c/' + new_token(), headers=attacker)
        self.assertEqual(status, 429)
        self.assertIsNotNone(headers.get('Retry-After'))
        self.assert_security_headers(headers, '429')

    def test_an_untrusted_proxy_shared_by_everyone_cannot_be_used_to_block_answers(self):
        """No trusted proxy: every client counts as the proxy's one address.
        An attacker forging a token every moment does not keep the others
        from answering."""
        self.start(overrides={'http.trusted_proxies': []}, subscribers=range(1, 6))
        tokens = {sid: self.pending_request(sid) for sid in range(1, 6)}
        stop = threading.Event()

        def attack():
            while not stop.is_set():
                pagelib.raw_status(self.http_url + '/c/' + new_token(),
                                   headers={'X-Forwarded-For': '10.0.0.%d' % (time.time_ns() % 250)})
        attacker = threading.Thread(target=attack)
        attacker.start()
        try:
            time.sleep(1)
            for sid, token in tokens.items():
                self.assertEqual(self.http('/c/' + token)[0], 200, sid)
                self.assertEqual(self.post('/c/' + token, 'keep')[0], 200, sid)
        finally:
            stop.set()
            attacker.join()
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                     " WHERE state = 'active'"), 5)
        # Its X-Forwarded-For was not believed: the attacker's many
        # addresses were one, and that one is held back.
        self.assertEqual(self.http('/c/' + new_token(),
                                   headers={'X-Forwarded-For': '10.99.0.1'})[0], 429)


class TrustedProxies(pagelib.PageTestCase):

    def forge(self, source, xff, n):
        """n forged tokens from source with X-Forwarded-For xff (a format
        string of the attempt number); the statuses."""
        return [request_from(source, self.http_port, '/c/' + new_token(),
                             headers={'X-Forwarded-For': xff.replace('%d', str(i))})[0]
                for i in range(n)]

    def test_default_trusts_127_0_0_1_only(self):
        self.start(subscribers=[1])
        # 127.0.0.1 is a trusted proxy: each forwarded address counts alone.
        self.assertEqual(set(self.forge('127.0.0.1', '198.51.100.%d', 40)), {404})
        # 127.0.0.2 is not: what it forwards is not believed, it is one client.
        statuses = self.forge('127.0.0.2', '198.51.100.%d', 40)
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertEqual(self.forge('127.0.0.2', '192.0.2.1', 1), [429])

    def test_listed_proxies_are_believed_and_others_not(self):
        self.start(overrides={'http.trusted_proxies': ['127.0.0.2', '192.0.2.0/24']},
                   subscribers=[1])
        token = self.pending_request(1)
        # 127.0.0.1 is no longer trusted: all it sends is one client.
        statuses = self.forge('127.0.0.1', '198.51.100.%d', 40)
        self.assertEqual(statuses[-1], 429, statuses)
        # 127.0.0.2 is: the address it forwards is the client's ...
        self.assertEqual(set(self.forge('127.0.0.2', '198.51.100.%d', 40)), {404})
        statuses = self.forge('127.0.0.2', '203.0.113.7', 40)
        self.assertEqual(statuses[-1], 429, statuses)
        # ... the hop a client writes in front of it is not ...
        self.assertEqual(self.forge('127.0.0.2', '198.51.100.1, 203.0.113.7', 1), [429])
        # ... and a chain of trusted proxies (192.0.2.0/24) is walked back to
        # the first address that is not one.
        self.assertEqual(self.forge('127.0.0.2', '203.0.113.7, 192.0.2.10', 1), [429])
        self.assertEqual(self.forge('127.0.0.2', '203.0.113.8, 192.0.2.10', 1), [404])
        # A working link from the blocked address still works.
        self.assertEqual(request_from('127.0.0.2', self.http_port, '/c/' + token,
                                      headers={'X-Forwarded-For': '203.0.113.7'})[0], 200)
        self.wait_log(r'too many invalid confirmation links from one address.*203\.0\.113\.7')

    def test_bad_trusted_proxies_are_configuration_errors(self):
        dsn = self.fresh_db('page')
        for bad in (['not-an-address'], ['10.0.0.0/33'], 'x'):
            path = self.write_config({'http.trusted_proxies': bad}, dsn=dsn)
            rc, out, err = self.ctl('migrate', config=path)
            self.assertEqual(rc, 78, (bad, err))
            self.assertIn('trusted_proxies', err)


class ConnectionBound(pagelib.PageTestCase):

    def open_seconds(self, sock, dribble):
        """Seconds until the server closes sock; dribble() is called once a
        second meanwhile (and may fail once the server has hung up)."""
        start = time.monotonic()
        sock.settimeout(1)
        while time.monotonic() - start < 40:
            try:
                if sock.recv(4096) == b'':
                    return time.monotonic() - start
            except socket.timeout:
                pass
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - start
            try:
                dribble()
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - start
        return time.monotonic() - start

    def test_a_client_that_dribbles_headers_is_closed_after_10_seconds(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        sock = socket.create_connection(('127.0.0.1', self.http_port))
        self.addCleanup(sock.close)
        sock.sendall(b'GET /c/' + token.encode() + b' HTTP/1.1\r\nHost: x\r\n')
        n = iter(range(1000))
        seconds = self.open_seconds(sock, lambda: sock.sendall(b'X-Dribble-%d: y\r\n' % next(n)))
        self.assertLess(seconds, 12, 'a dribbling client stayed %.1f s' % seconds)
        self.assertGreater(seconds, 8, 'closed too early: %.1f s' % seconds)
        # Others were served meanwhile, and are still.
        self.assertEqual(self.http('/c/' + token)[0], 200)

    def test_a_client_that_dribbles_its_body_is_closed_after_10_seconds(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        sock = socket.create_connection(('127.0.0.1', self.http_port))
        self.addCleanup(sock.close)
        sock.sendall(b'POST /c/' + token.encode() + b' HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/x-www-form-urlencoded\r\n'
                     b'Content-Length: 500\r\n\r\naction=keep&pad=')
        seconds = self.open_seconds(sock, lambda: sock.sendall(b'x'))
        self.assertLess(seconds, 12, 'a dribbling client stayed %.1f s' % seconds)
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 1'), 'pending')

    def test_a_complete_request_waiting_for_the_database_is_answered(self):
        """The bound is on receiving the request: one that is complete and
        waits for the database longer than 10 s is still answered."""
        self.start(subscribers=[1])
        token = self.pending_request(1)
        lock = harness.psycopg2.connect(self.dsn)
        self.addCleanup(lock.close)
        lock.cursor().execute('LOCK TABLE dormant.token IN ACCESS EXCLUSIVE MODE')
        threading.Timer(9.5, lock.rollback).start()
        start = time.monotonic()
        self.assertEqual(self.http('/c/' + token, timeout=30)[0], 200)
        self.assertGreater(time.monotonic() - start, 9)


class Overload(pagelib.PageTestCase):

    def test_overload_answers_503_with_retry_after_and_changes_nothing(self):
        """More answers at once than the page lets wait for the database:
        those over the bound get 503 with Retry-After at once, and their
        subscribers stay pending; the others are recorded."""
        n = 600
        self.start()
        tokens = [new_token() for _ in range(n)]
        self.tokens.extend(tokens)
        self.psql(self.dsn, "INSERT INTO subscribers (id, email, last_activity_at)"
                  " SELECT g, 'user' || g || '@example.com', now() FROM generate_series(1, %s) g",
                  (n,))
        self.psql(self.dsn, "INSERT INTO dormant.account (subscriber_id, state, cycle, rule,"
                  " requested_at, delivered_at, deadline) SELECT g, 'pending', 1, 'inactive',"
                  " now(), now(), now() + interval '30 days' FROM generate_series(1, %s) g", (n,))
        self.psql(self.dsn, 'INSERT INTO dormant.token (hash, subscriber_id, cycle)'
                  ' SELECT h, s, 1 FROM unnest(%s::bytea[], %s::bigint[]) AS x(h, s)',
                  ([hashlib.sha256(t.encode()).digest() for t in tokens],
                   list(range(1, n + 1))))
        lock = harness.psycopg2.connect(self.dsn)
        self.addCleanup(lock.close)
        lock.cursor().execute('LOCK TABLE dormant.token IN ACCESS EXCLUSIVE MODE')
        answers = {}

        def post(i):
            status, headers, _ = self.http('/c/' + tokens[i], method='POST',
                                           data={'action': 'keep'}, timeout=60,
                                           headers={'X-Forwarded-For': '10.8.%d.%d'
                                                    % (i // 250, i % 250)})
            answers[i + 1] = (status, headers.get('Retry-After'))
        runner = threading.Thread(target=lambda: pagelib.parallel(
            [lambda i=i: post(i) for i in range(n)]))
        runner.start()
        self.wait_for(lambda: len(answers) >= n - 512, what='the answers over the bound')
        lock.rollback()
        runner.join()
        refused = sorted(s for s, (st, _) in answers.items() if st == 503)
        kept = sorted(s for s, (st, _) in answers.items() if st == 200)
        self.assertTrue(refused, answers)
        self.assertEqual(len(refused) + len(kept), n, answers)
        self.assertTrue(all(answers[s][1] for s in refused), 'a 503 without Retry-After')
        time.sleep(1)
        states = dict(self.psql(self.dsn, 'SELECT subscriber_id, state FROM dormant.account'))
        self.assertEqual({states[s] for s in refused}, {'pending'})
        self.assertEqual({states[s] for s in kept}, {'active'})

    def test_an_answer_that_waited_too_long_gets_503_only_if_nothing_changed(self):
        """Answers queue behind a statement stuck on a lock for longer than
        the page waits (10 s). Those still queued are taken back and get
        503 with Retry-After, and stay unrecorded after the lock goes; the
        one already running waits for its outcome and gets 200."""
        self.start(subscribers=[1, 2, 3])
        tokens = {sid: self.pending_request(sid) for sid in (1, 2, 3)}
        lock = harness.psycopg2.connect(self.dsn)
        self.addCleanup(lock.close)
        lock.cursor().execute('LOCK TABLE dormant.token IN ACCESS EXCLUSIVE MODE')
        answers = {}

        def post(sid):
            status, headers, _ = self.post('/c/' + tokens[sid], 'keep', timeout=60)
            answers[sid] = (status, headers.get('Retry-After'), time.monotonic())
        threads = []
        for sid in (1, 2, 3):  # in this order on the page's one connection
            threads.append(threading.Thread(target=post, args=(sid,)))
            threads[-1].start()
            time.sleep(0.3)
        self.wait_for(lambda: len(answers) >= 2, timeout=30, what='the 503s')
        released = time.monotonic()
        time.sleep(1)
        lock.rollback()
        for t in threads:
            t.join()
        self.assertEqual({sid: a[0] for sid, a in answers.items()}, {1: 200, 2: 503, 3: 503})
        self.assertIsNotNone(answers[2][1])
        self.assertGreater(answers[1][2], released)  # it waited for the lock, then answered
        time.sleep(1)
        states = dict(self.psql(self.dsn, 'SELECT subscriber_id, state FROM dormant.account'))
        self.assertEqual(states, {1: 'active', 2: 'pending', 3: 'pending'})


if __name__ == '__main__':
    harness.main()
