"""The confirmation page: GET shows, POST answers (keep / pause), once, atomically."""

import json
import os
import signal
import threading

import harness
import pagelib
from pagelib import new_token


class PageAnswers(pagelib.PageTestCase):

    def test_get_and_head_never_change_state(self):
        self.start(subscribers=[1, 2])
        token = self.pending_request(1)
        before = self.snapshot()
        for _ in range(3):
            status, headers, body = self.http('/c/' + token)
            self.assertEqual(status, 200)
            text = body.decode()
            self.assertIn('Keep my subscription', text)
            self.assertIn('Pause billing now', text)
            self.assertIn('method="post"', text)
            self.assertNotIn(token, text)  # the form posts to its own URL
            self.assertIn('text/html', headers['Content-Type'])
            status, headers, body = self.http('/c/' + token, method='HEAD')
            self.assertEqual(status, 200)
            self.assertEqual(body, b'')
        self.assertEqual(self.snapshot(), before)
        self.assertNotIn(token, self.log_text())

    def test_page_states_the_deadline_as_a_date(self):
        self.start(subscribers=[1])
        token = self.pending_request(1, deadline="timestamptz '2031-03-05 17:45:00+00'")
        status, _, body = self.http('/c/' + token)
        self.assertEqual(status, 200)
        self.assertIn('5 March 2031', body.decode())
        # In email.timezone (UTC here), in the language's own clock, as the
        # last second inside the deadline ("5:44:59 pm").
        self.assertIn('5:44:59', body.decode())

    def test_french_subscriber_gets_the_french_page(self):
        self.start(subscribers=[1], locale='fr')
        token = self.pending_request(1, deadline="timestamptz '2031-12-05 10:00:00+00'")
        status, _, body = self.http('/c/' + token)
        self.assertEqual(status, 200)
        text = body.decode()
        self.assertIn('lang="fr"', text)
        self.assertIn('5 décembre 2031', text)
        self.assertIn('Garder mon abonnement', text)
        # The answer page is in the subscriber's language too, whatever the
        # browser prefers.
        status, _, body = self.post('/c/' + token, 'keep', headers={'Accept-Language': 'en-GB'})
        self.assertEqual(status, 200)
        self.assertIn('lang="fr"', body.decode())
        self.assertIn('continue', body.decode())
        # Error pages follow Accept-Language (nothing else is known).
        status, _, body = self.http('/c/' + token, headers={'Accept-Language': 'fr-CA,en;q=0.5'})
        self.assertEqual(status, 404)
        self.assertIn('lang="fr"', body.decode())
        status, _, body = self.http('/c/' + token, headers={'Accept-Language': 'pt, en'})
        self.assertIn('lang="en"', body.decode())

    def test_page_templates_reload_on_sighup(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        path = os.path.join(self.tmp, 'templates', 'en', 'page.html')
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(text.replace('Keep my subscription', 'Yes, keep it <b>{{deadline_date}}</b>'))
        mark = self.log_mark()
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded"', since=mark)
        body = self.http('/c/' + token)[2].decode()
        self.assertIn('Yes, keep it <b>', body)
        self.assertNotIn('Keep my subscription', body)

    def test_pages_share_one_inline_style_sheet(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        css_path = os.path.join(self.tmp, 'templates', 'page.css')
        with open(css_path) as f:
            css = f.read().strip()
        for path in ('/c/' + token, '/c/' + 'A' * 43):     # the question, and the 404 page
            body = self.http(path)[2].decode()
            self.assertIn('<style>' + css, body)           # inline, verbatim (quotes unescaped)
            self.assertNotIn('{{style}}', body)
        # The sheet is read again on SIGHUP, like the pages.
        with open(css_path, 'w') as f:
            f.write('main{color:#123456}\n')
        mark = self.log_mark()
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded"', since=mark)
        self.assertIn('<style>main{color:#123456}', self.http('/c/' + token)[2].decode())

    def test_graceful_stop_finishes_an_answer_in_flight(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        lock = harness.psycopg2.connect(self.dsn)
        self.addCleanup(lock.close)
        lock.cursor().execute('LOCK TABLE dormant.token IN ACCESS EXCLUSIVE MODE')
        answer = []
        poster = threading.Thread(target=lambda: answer.append(self.post('/c/' + token, 'keep')))
        poster.start()
        self.wait_for(lambda: self.scalar(self.dsn, "SELECT count(*) FROM pg_stat_activity"
                                          " WHERE application_name = 'dormantd/http'"
                                          " AND wait_event_type = 'Lock'"),
                      what='the answer to wait for the lock')
        mark = self.log_mark()
        self.daemon.send_signal(signal.SIGTERM)
        self.wait_log(r'msg="stopping"', since=mark)
        lock.rollback()
        poster.join()
        self.assertEqual(self.wait_exit(), 0)
        self.assertEqual(answer[0][0], 200)
        self.assertIn('continues', answer[0][2].decode())
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'), 'active')

    def test_dry_run_records_no_answer(self):
        self.start(overrides={'dry_run': True}, subscribers=[1])
        token = self.pending_request(1)
        before = self.snapshot()
        self.assertEqual(self.http('/c/' + token)[0], 200)
        status, _, body = self.post('/c/' + token, 'keep')
        self.assertEqual(status, 503)  # honest: nothing was done, come back later
        self.assertIn('Nothing has changed', body.decode())
        self.assertEqual(self.snapshot(), before)
        self.wait_log(r'dry run: an answer on the page was not recorded')

    def test_keep_confirms_once(self):
        self.start(subscribers=[1, 2])
        token = self.pending_request(1)
        other = self.pending_request(2)
        listener = harness.psycopg2.connect(self.dsn)
        self.addCleanup(listener.close)
        listener.autocommit = True
        listener.cursor().execute('LISTEN dormant_outbox')
        status, headers, body = self.post('/c/' + token, 'keep')
        self.assertEqual(status, 200, body)
        self.assertIn('continues', body.decode())
        self.assert_security_headers(headers, 'kept page')
        row = self.psql(self.dsn, 'SELECT state, confirmed_at IS NOT NULL'
                        ' FROM dormant.account WHERE subscriber_id = 1')[0]
        self.assertEqual(row, ('active', True))
        events = self.psql(self.dsn, 'SELECT kind, actor, cycle FROM dormant.event'
                           ' WHERE subscriber_id = 1')
        self.assertEqual(events, [('confirmed', 'subscriber', 1)])
        msgs = self.psql(self.dsn, 'SELECT type, payload FROM dormant.outbox WHERE subscriber_id = 1')
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], 'subscription.confirmed')
        payload = msgs[0][1]
        self.assertEqual(payload['type'], 'subscription.confirmed')
        self.assertEqual(payload['data']['subscriber_id'], '1')
        self.assertEqual(payload['data']['email'], 'user1@example.com')
        self.assertEqual(payload['data']['locale'], 'en')
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.token'
                                     ' WHERE subscriber_id = 1'), 0)
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'
                                     ' WHERE id = 1'), 'active')
        # The delivery side is woken up.
        def notified():
            listener.poll()
            return [n.channel for n in listener.notifies]
        self.assertEqual(self.wait_for(notified, what='NOTIFY dormant_outbox'),
                         ['dormant_outbox'])
        # The other subscriber is untouched.
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 2'), 'pending')
        self.assertEqual(self.http('/c/' + other)[0], 200)
        # Replayed: the link is dead, for GET and for both answers.
        before = self.snapshot()
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 404)
        self.assertEqual(self.post('/c/' + token, 'pause')[0], 404)
        self.assertEqual(self.http('/c/' + token)[0], 404)
        self.assertEqual(self.snapshot(), before)
        self.wait_log(r'msg="subscriber confirmed: keeps the subscription" subscriber=1')
        self.assertNotIn(token, self.log_text())
        self.assertNotIn('user1@example.com', self.log_text())

    def test_pause_suspends_and_stops_billing(self):
        self.start(subscribers=[1, 2])
        token = self.pending_request(1)
        status, _, body = self.post('/c/' + token, 'pause')
        self.assertEqual(status, 200, body)
        self.assertIn('paused', body.decode())
        row = self.psql(self.dsn, 'SELECT state, suspended_at IS NOT NULL'
                        ' FROM dormant.account WHERE subscriber_id = 1')[0]
        self.assertEqual(row, ('suspended', True))
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'
                                     ' WHERE id = 1'), 'suspended')
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'
                                     ' WHERE id = 2'), 'active')
        self.assertEqual(self.psql(self.dsn, 'SELECT kind, actor FROM dormant.event'
                                   ' WHERE subscriber_id = 1'), [('declined', 'subscriber')])
        self.assertEqual(self.psql(self.dsn, 'SELECT type FROM dormant.outbox'
                                   ' WHERE subscriber_id = 1'), [('subscription.suspended',)])
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.token'), 0)
        self.assertEqual(self.post('/c/' + token, 'pause')[0], 404)
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 404)
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.event'), 1)

    def test_undelivered_reminders_die_with_the_answer(self):
        self.start(subscribers=[1, 2])
        token = self.pending_request(1)
        self.pending_request(2)
        self.psql(self.dsn, "INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload,"
                  " delivered_at) VALUES ('confirmation.requested', 1, 1, '{}', now()),"
                  " ('confirmation.reminder', 1, 1, '{}', NULL),"
                  " ('confirmation.reminder', 2, 1, '{}', NULL)")
        # Paused delivery keeps them queued: only the answer may retire them.
        self.psql(self.dsn, 'UPDATE dormant.control SET paused = true')
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 200)
        rows = self.psql(self.dsn, 'SELECT subscriber_id, type, delivered_at IS NOT NULL,'
                         ' dead_at IS NOT NULL FROM dormant.outbox ORDER BY id')
        self.assertEqual(rows, [(1, 'confirmation.requested', True, False),
                                (1, 'confirmation.reminder', False, True),
                                (2, 'confirmation.reminder', False, False),
                                (1, 'subscription.confirmed', False, False)])

    def test_pause_leaves_a_billing_value_set_by_the_application(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        self.psql(self.dsn, "UPDATE subscribers SET billing_status = 'comped' WHERE id = 1")
        self.assertEqual(self.post('/c/' + token, 'pause')[0], 200)
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'), 'comped')
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'), 'suspended')

    def test_an_answer_is_all_or_nothing(self):
        """When any part of the answer fails (here the outbox refuses the
        message), nothing of it is written: state, billing, event, token."""
        self.start(subscribers=[1])
        token = self.pending_request(1)
        self.psql(self.dsn, "ALTER TABLE dormant.outbox ADD CONSTRAINT no_suspended"
                  " CHECK (type <> 'subscription.suspended')")
        before = self.snapshot()
        status, _, body = self.post('/c/' + token, 'pause')
        self.assertEqual(status, 503)
        self.assertIn('try again later', body.decode())
        self.assertEqual(self.snapshot(), before)
        self.psql(self.dsn, 'ALTER TABLE dormant.outbox DROP CONSTRAINT no_suspended')
        self.assertEqual(self.post('/c/' + token, 'pause')[0], 200)
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'),
                         'suspended')

    def test_token_of_an_old_cycle_or_a_non_pending_account_is_dead(self):
        self.start(subscribers=[1, 2])
        old = self.pending_request(1, cycle=1)
        self.psql(self.dsn, 'UPDATE dormant.account SET cycle = 2 WHERE subscriber_id = 1')
        self.assertEqual(self.http('/c/' + old)[0], 404)
        self.assertEqual(self.post('/c/' + old, 'keep')[0], 404)
        t2 = self.pending_request(2)
        self.psql(self.dsn, "UPDATE dormant.account SET state = 'suspended'"
                  ' WHERE subscriber_id = 2')
        self.assertEqual(self.http('/c/' + t2)[0], 404)
        self.assertEqual(self.post('/c/' + t2, 'keep')[0], 404)
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.event'), 0)

    def test_unknown_tokens_get_the_same_404_and_change_nothing(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        before = self.snapshot()
        bodies = set()
        candidates = [new_token() for _ in range(10)]
        candidates += ['short', 'x' * 44, token[:-1] + ('A' if token[-1] != 'A' else 'B'),
                       token + 'A', '%3Cscript%3E', token.upper() if token.upper() != token
                       else new_token()]
        for i, t in enumerate(candidates):
            # Distinct client addresses, so the rate limit stays out of this test.
            hdr = {'X-Forwarded-For': '192.0.2.%d' % (i + 1)}
            for method in ('GET', 'POST'):
                if method == 'GET':
                    status, headers, body = self.http('/c/' + t, headers=hdr)
                else:
                    status, headers, body = self.post('/c/' + t, 'keep', headers=hdr)
                self.assertEqual(status, 404, t)
                self.assert_security_headers(headers, '404')
                bodies.add(body)
        self.assertEqual(len(bodies), 1)  # one page for every kind of bad link
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.http('/c/' + token)[0], 200)

    def test_concurrent_answers_apply_exactly_once(self):
        n = 200
        ids = list(range(1, n + 1))
        self.start(subscribers=ids)
        tokens = {i: self.pending_request(i) for i in ids}
        url = self.http_url + '/c/'
        body = b'action=keep'
        # One client address per token: the losers' 404s must not add up
        # to a rate limit on the winners.
        calls = [lambda t=tokens[i], h={'Content-Type': 'application/x-www-form-urlencoded',
                                        'X-Forwarded-For': '10.0.%d.%d' % (i // 250, i % 250)}:
                 pagelib.raw_status(url + t, 'POST', body, h, 60)
                 for i in ids]
        # Every token twice, at once: exactly one of each pair may win.
        results = pagelib.parallel(calls + calls)
        self.assertEqual(sorted(results[:n] + results[n:]).count(200), n, results)
        for i in range(n):
            self.assertEqual(sorted([results[i], results[n + i]]), [200, 404])
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                     " WHERE state = 'active'"), n)
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.event"
                                     " WHERE kind = 'confirmed'"), n)
        self.assertEqual(self.scalar(self.dsn, "SELECT count(DISTINCT subscriber_id)"
                                     " FROM dormant.outbox"), n)
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.outbox"), n)


if __name__ == '__main__':
    harness.main()
