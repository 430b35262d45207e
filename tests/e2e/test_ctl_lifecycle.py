#!/usr/bin/python3
"""dormantctl against the real dormantd: preview agrees with the next pass
and writes nothing; pause stored in the database stops `--once` and a
running daemon; show and status tell what really happened."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Every table dormant writes, and the source columns it may change.
SNAPSHOT = [
    'SELECT * FROM dormant.account ORDER BY subscriber_id',
    'SELECT * FROM dormant.event ORDER BY id',
    'SELECT * FROM dormant.outbox ORDER BY id',
    'SELECT * FROM dormant.token ORDER BY hash',
    'SELECT * FROM dormant.exemption ORDER BY subscriber_id',
    'SELECT * FROM dormant.control',
    'SELECT * FROM public.subscribers ORDER BY id',
]


class CtlLifecycle(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.dsn = self.fresh_db('ctl_life')
        self.make_subscribers_table(self.dsn)
        self.add_subscribers(self.dsn, [1, 2, 3], active_ago='3 years')        # inactive
        self.add_subscribers(self.dsn, [4, 5], created_ago='2 years', active_ago=None)  # never
        self.add_subscribers(self.dsn, [6, 7], active_ago='1 day')            # active
        self.add_subscribers(self.dsn, [8], created_ago='3 days', active_ago=None)  # too young
        self.add_subscribers(self.dsn, [9], active_ago='3 years')             # will be exempt
        self.add_subscribers(self.dsn, [10], active_ago='3 years', billing='suspended')
        self.write_config({'policy.confirm_within': '3 seconds', 'policy.reminders': [],
                           'policy.erase_after': '', 'limits.max_backlog_fraction': 1.0})
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        rc, out, err = self.ctl('exempt', '9', '--reason', 'key account')
        self.assertEqual(rc, 0, err)

    def feed_catches_up(self):
        """Subscriber 6 watches now: the activity feed reaches the deadlines
        (promise 1 holds suspensions back until it does)."""
        self.psql(self.dsn, 'UPDATE subscribers SET last_activity_at = now() WHERE id = 6')

    def snapshot(self):
        return [self.psql(self.dsn, q) for q in SNAPSHOT]

    def preview(self, *args):
        before = self.snapshot()
        rc, out, err = self.ctl('preview', '--json', *args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.snapshot(), before, 'preview wrote something')
        doc = json.loads(out)
        return {a: sorted(int(s['subscriber_id']) for s in v['subscribers'])
                for a, v in doc['actions'].items()}, doc

    def once(self, *args):
        self.start_daemon(self.config, '--once', *args)
        self.assertEqual(self.wait_exit(), 0, self.output_tail())

    def ids(self, state):
        return sorted(i for (i,) in self.psql(self.dsn, 'SELECT subscriber_id FROM dormant.account'
                                              ' WHERE state = %s', (state,)))

    def test_preview_agrees_with_the_next_pass(self):
        who, doc = self.preview()
        self.assertEqual(who['request'], [1, 2, 3, 4, 5])
        self.assertEqual(doc['actions']['request']['total'], 5)
        rules = {int(s['subscriber_id']): s['rule']
                 for s in doc['actions']['request']['subscribers']}
        self.assertEqual(rules, {1: 'inactive', 2: 'inactive', 3: 'inactive',
                                 4: 'never_active', 5: 'never_active'})
        self.assertEqual(who['suspend'], [])
        # --limit caps the list, not the total.
        short, doc = self.preview('--limit', '2')
        self.assertEqual(len(short['request']), 2)
        self.assertEqual(doc['actions']['request']['total'], 5)
        rc, text, err = self.ctl('preview')
        self.assertEqual(rc, 0, err)
        self.assertRegex(text, r'request: 5\b')
        self.assertRegex(text, r'\n  1\s+inactive\s+no activity since')

        self.once()
        self.assertEqual(self.ids('pending'), who['request'])

        # The application's mailer acknowledges; subscriber 2 watches again.
        self.psql(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()')
        self.psql(self.dsn, 'UPDATE subscribers SET last_activity_at = now() WHERE id = 2')
        self.wait_for(lambda: self.scalar(self.dsn, "SELECT bool_and(deadline < now())"
                                          " FROM dormant.account WHERE state = 'pending'"),
                      what='the deadlines')
        self.feed_catches_up()
        who, doc = self.preview()
        self.assertEqual(who['resume'], [2])
        self.assertEqual(who['request'], [])
        self.once()
        self.assertEqual(self.ids('active'), [2])
        self.assertEqual(self.ids('suspended'), [1, 3, 4, 5])
        self.assertEqual(set(who['suspend']) - {2}, {1, 3, 4, 5})

        # status and show tell what happened.
        status = json.loads(self.ctl('status', '--json')[1])
        self.assertEqual(status['accounts']['suspended'], 4)
        self.assertEqual(status['accounts']['active'], 1)
        self.assertIsNotNone(status['last_pass']['at'])
        rc, text, err = self.ctl('show', '1')
        self.assertEqual(rc, 0, err)
        self.assertRegex(text, r'state\s+suspended')
        self.assertRegex(text, r'why\s+no answer by the deadline')
        kinds = [e['kind'] for e in json.loads(self.ctl('show', '1', '--json')[1])['events']]
        self.assertEqual(kinds[0], 'requested')
        self.assertIn('suspended', kinds)

    def test_exempting_a_pending_subscriber_closes_the_request(self):
        self.once()
        self.assertEqual(self.ids('pending'), [1, 2, 3, 4, 5])
        self.psql(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()')
        rc, out, err = self.ctl('exempt', '1', '--reason', 'key account', env={'SUDO_USER': 'ana'})
        self.assertEqual(rc, 0, err)
        self.assertIn('closed as confirmed', out)
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 1'), 'active')
        ev = self.psql(self.dsn, "SELECT kind, actor, detail->>'reason' FROM dormant.event"
                       " WHERE subscriber_id = 1 AND kind IN ('exempted', 'confirmed') ORDER BY id")
        self.assertEqual(ev, [('exempted', 'operator:ana', 'key account'),
                              ('confirmed', 'operator:ana', 'exempted: key account')])
        self.wait_for(lambda: self.scalar(self.dsn, "SELECT bool_and(deadline < now())"
                                          " FROM dormant.account WHERE state = 'pending'"),
                      what='the deadlines')
        self.feed_catches_up()
        self.once()
        self.assertEqual(self.ids('suspended'), [2, 3, 4, 5])
        self.assertEqual(self.scalar(self.dsn, 'SELECT billing_status FROM subscribers'
                                     ' WHERE id = 1'), 'active')
        # Still exempt: not asked again even once the confirmation is forgotten.
        self.psql(self.dsn, 'UPDATE dormant.account SET recheck_at = now(), confirmed_at = NULL'
                  ' WHERE subscriber_id = 1')
        self.once()
        self.assertEqual(self.ids('pending'), [])

    def test_preview_reports_the_backlog_guard(self):
        self.write_config({'limits.max_backlog_fraction': 0.1})
        who, doc = self.preview()
        self.assertTrue(doc['guards']['backlog_tripped'])
        self.assertIsNotNone(doc['actions']['request']['held'])
        rc, text, err = self.ctl('preview')
        self.assertIn('backlog guard tripped', text)
        # The pass agrees: nothing requested until the backlog is accepted.
        self.once()
        self.assertEqual(self.ids('pending'), [])
        rc, out, err = self.ctl('accept-backlog')
        self.assertEqual(rc, 0, err)
        self.assertIn('5', out)
        who, doc = self.preview()
        self.assertFalse(doc['guards']['backlog_tripped'])
        self.once()
        self.assertEqual(self.ids('pending'), [1, 2, 3, 4, 5])

    def test_pause_stops_once(self):
        rc, out, err = self.ctl('pause', '--reason', 'test')
        self.assertEqual(rc, 0, err)
        who, doc = self.preview()
        self.assertTrue(doc['guards']['paused'])
        self.assertIsNotNone(doc['actions']['request']['held'])
        self.once()
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.outbox'), 0)
        self.assertEqual(self.ids('pending'), [])
        self.assertEqual(self.ctl('resume')[0], 0)
        self.once()
        self.assertEqual(self.ids('pending'), [1, 2, 3, 4, 5])

    def test_pause_stops_a_running_daemon(self):
        # Nobody is due at first: everyone active recently.
        self.psql(self.dsn, 'UPDATE subscribers SET last_activity_at = now()')
        self.start_daemon()
        self.wait_for(lambda: self.scalar(self.dsn, 'SELECT last_pass_at FROM dormant.control'),
                      what='a first pass')
        rc, out, err = self.ctl('pause')
        self.assertEqual(rc, 0, err)
        # Wait until the daemon has seen the pause (healthz reports it) ...
        self.wait_for(lambda: json.loads(self.wait_http('/healthz')[2]).get('paused'),
                      what='the daemon to report paused')
        # ... then make subscribers due, and let several passes go by.
        self.psql(self.dsn, "UPDATE subscribers SET last_activity_at = now() - interval '3 years'"
                  " WHERE id IN (1, 2, 3)")
        self.ctl('rescan')
        first = self.scalar(self.dsn, 'SELECT last_pass_at FROM dormant.control')
        self.wait_for(lambda: self.scalar(self.dsn, 'SELECT last_pass_at > %s FROM dormant.control',
                                          (first,)), what='passes while paused')
        second = self.scalar(self.dsn, 'SELECT last_pass_at FROM dormant.control')
        self.wait_for(lambda: self.scalar(self.dsn, 'SELECT last_pass_at > %s FROM dormant.control',
                                          (second,)), what='passes while paused')
        self.assertEqual(self.ids('pending'), [])
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.outbox'), 0)
        # Resume: the running daemon asks them.
        self.assertEqual(self.ctl('resume')[0], 0)
        self.wait_for(lambda: self.ids('pending') == [1, 2, 3], what='requests after resume')
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
