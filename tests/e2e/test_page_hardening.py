"""The page against hostile clients: headers, methods, sizes, slow clients, guessing."""

import socket
import threading
import time

import harness
import pagelib
from pagelib import new_token


class PageHardening(pagelib.PageTestCase):

    def test_headers_on_every_answer(self):
        self.start(subscribers=[1, 2])
        token = self.pending_request(1)
        cases = [
            ('GET', '/c/' + token, None, 200),
            ('HEAD', '/c/' + token, None, 200),
            ('GET', '/c/' + new_token(), None, 404),
            ('GET', '/c/not-a-token', None, 404),
            ('GET', '/', None, 404),
            ('GET', '/nothing/here', None, 404),
            ('PUT', '/c/' + token, b'x', 405),
            ('POST', '/c/' + token, b'action=maybe', 400),
            ('POST', '/c/' + token, b'action=' + b'k' * 5000, 413),
            ('GET', '/healthz', None, 200),
            ('GET', '/metrics', None, 200),
            ('POST', '/c/' + token, b'action=keep', 200),
        ]
        for method, path, data, want in cases:
            status, headers, body = self.http(path, method=method, data=data)
            what = '%s %s' % (method, path.replace(token, '[token]'))
            self.assertEqual(status, want, what)
            self.assert_security_headers(headers, what)
            self.assertEqual(headers.get('X-Content-Type-Options'), 'nosniff')

    def test_link_trackers_query_strings_are_ignored(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        self.assertEqual(self.http('/c/' + token + '?utm_source=mail&x=%3Cb%3E')[0], 200)
        self.assertEqual(self.post('/c/' + token + '?utm_source=mail', 'keep')[0], 200)

    def test_other_methods_get_405_with_allow(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        before = self.snapshot()
        for method in ('PUT', 'DELETE', 'PATCH', 'OPTIONS'):
            status, headers, _ = self.http('/c/' + token, method=method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers.get('Allow'), 'GET, HEAD, POST')
        for path in ('/healthz', '/metrics'):
            status, headers, _ = self.http(path, method='POST', data=b'')
            self.assertEqual(status, 405)
            self.assertEqual(headers.get('Allow'), 'GET, HEAD')
        self.assertEqual(self.snapshot(), before)

    def test_large_bodies_are_refused_without_effect(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        before = self.snapshot()
        status, _, _ = self.http('/c/' + token, method='POST',
                                 data=b'action=keep&pad=' + b'x' * 2000)
        self.assertEqual(status, 413)
        # Far over libevent's own ceiling: refused too (possibly by closing).
        try:
            status, _, _ = self.http('/c/' + token, method='POST',
                                     data=b'action=keep&pad=' + b'x' * 200000)
            self.assertEqual(status, 413)
        except (ConnectionError, OSError):
            pass
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.http('/c/' + token)[0], 200)

    def test_slow_client_is_cut_off_and_does_not_block_others(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        slow = socket.create_connection(('127.0.0.1', self.http_port))
        self.addCleanup(slow.close)
        slow.sendall(b'GET /c/' + token.encode() + b' HTTP/1.1\r\nHost: x\r\n')  # never ends
        # Others are served while it dawdles.
        self.assertEqual(self.http('/c/' + token)[0], 200)
        # And the server hangs up on it in the end.
        slow.settimeout(self.TIMEOUT)
        data = b''
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertNotIn(b'200 OK', data)

    def test_requests_waiting_for_the_database_are_bounded(self):
        """With the token table locked, lookups queue on the page's connection;
        past the bound, requests get 503 at once instead of piling up."""
        self.start(subscribers=[1])
        token = self.pending_request(1)
        lock = harness.psycopg2.connect(self.dsn)
        self.addCleanup(lock.close)
        lock.cursor().execute('LOCK TABLE dormant.token IN ACCESS EXCLUSIVE MODE')
        n = 600
        done = []
        url = self.http_url + '/c/' + token

        def get(i):
            st = pagelib.raw_status(url, headers={'X-Forwarded-For': '10.7.%d.%d'
                                                  % (i // 250, i % 250)}, timeout=60)
            done.append(st)
            return st
        results = []
        runner = threading.Thread(
            target=lambda: results.extend(pagelib.parallel([lambda i=i: get(i)
                                                            for i in range(n)])))
        runner.start()
        # The ones over the bound come back while the others still wait.
        self.wait_for(lambda: len(done) >= n - 512, what='the requests over the bound')
        early = list(done)
        lock.rollback()
        runner.join()
        self.assertEqual(set(early), {503})
        self.assertEqual(results.count(503), len(early), results)
        self.assertEqual(results.count(200), n - len(early))
        self.assertEqual(self.http('/c/' + token)[0], 200)

    def test_rate_limit_trips_and_releases(self):
        self.start(subscribers=[1, 2])
        t1 = self.pending_request(1)
        t2 = self.pending_request(2)
        attacker = {'X-Forwarded-For': '203.0.113.7'}
        other = {'X-Forwarded-For': '198.51.100.9'}
        statuses = [self.http('/c/' + new_token(), headers=attacker)[0] for _ in range(40)]
        self.assertIn(429, statuses)
        first = statuses.index(429)
        self.assertTrue(first >= 5, statuses)  # a few mistakes are allowed
        self.assertTrue(all(s == 404 for s in statuses[:first]), statuses)
        self.assertTrue(all(s == 429 for s in statuses[first:]), statuses)
        status, headers, body = self.http('/c/' + new_token(), headers=attacker)
        self.assertEqual(status, 429)  # the address's forgeries are held back
        self.assertIsNotNone(headers.get('Retry-After'))
        self.assert_security_headers(headers, '429')
        # A good link from there still works (DESIGN section 8: limits fall
        # on failed tokens only).
        self.assertEqual(self.http('/c/' + t1, headers=attacker)[0], 200)
        # Nobody else is slowed down.
        self.assertEqual(self.http('/c/' + t2, headers=other)[0], 200)
        self.assertEqual(self.post('/c/' + t2, 'keep', headers=other)[0], 200)
        # A blocked address changed nothing.
        self.assertEqual(self.scalar(self.dsn, "SELECT state FROM dormant.account"
                                     " WHERE subscriber_id = 1"), 'pending')
        # It releases after the time it said: a wrong link gets its 404
        # again from that address.
        status, headers, _ = self.http('/c/' + new_token(), headers=attacker)
        self.assertEqual(status, 429)
        time.sleep(int(headers.get('Retry-After')))
        self.assertEqual(self.http('/c/' + new_token(), headers=attacker)[0], 404)
        self.wait_log(r'too many invalid confirmation links from one address.*203\.0\.113\.7')

    def test_forwarded_for_is_trusted_only_from_a_local_proxy(self):
        """Behind a local proxy (the default http.trusted_proxies) the last
        X-Forwarded-For hop (the one the proxy added) counts: a client
        cannot dodge the limit by sending addresses of its own in front of
        it."""
        self.start(subscribers=[1])
        token = self.pending_request(1)
        for i in range(40):
            self.http('/c/' + new_token(), headers={'X-Forwarded-For': '10.9.%d.1, 192.0.2.50' % i})
        self.assertEqual(self.http('/c/' + new_token(),
                                   headers={'X-Forwarded-For': '10.1.1.1, 192.0.2.50'})[0], 429)
        self.assertEqual(self.http('/c/' + token,
                                   headers={'X-Forwarded-For': '192.0.2.51'})[0], 200)



class PageOverIPv6(pagelib.PageTestCase):
    """http.listen = "[::1]:PORT": served over IPv6; ::1 counts as a local proxy."""

    @property
    def http_url(self):
        return 'http://[::1]:%d' % self.http_port

    def test_ipv6_listen(self):
        try:
            socket.socket(socket.AF_INET6).close()
            probe = socket.socket(socket.AF_INET6)
            probe.bind(('::1', 0))
            probe.close()
        except OSError:
            self.skipTest('no IPv6 loopback here')

        def listen_v6():
            with open(self.config) as f:
                text = f.read()
            with open(self.config, 'w') as f:
                f.write(text.replace('listen = "127.0.0.1:', 'listen = "[::1]:'))
        self.start(subscribers=[1], before_daemon=listen_v6)
        token = self.pending_request(1)
        self.assertEqual(self.http('/c/' + token)[0], 200)
        for i in range(30):
            self.http('/c/' + new_token(), headers={'X-Forwarded-For': '2001:db8::7'})
        self.assertEqual(self.http('/c/' + new_token(),
                                   headers={'X-Forwarded-For': '2001:db8::7'})[0], 429)
        self.assertEqual(self.http('/c/' + token, headers={'X-Forwarded-For': '2001:db8::7'})[0],
                         200)
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 200)


if __name__ == '__main__':
    harness.main()
