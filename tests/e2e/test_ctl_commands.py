#!/usr/bin/python3
"""dormantctl's commands against the real PostgreSQL: what each writes, what
each prints (--json parsed as JSON), and the exit codes of DESIGN.md §3.

Rows the engine would write (accounts, messages, guards) are planted with SQL
where a test needs a given state; test_ctl_lifecycle.py drives the real
daemon instead.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class CtlCommands(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.dsn = self.fresh_db('ctl')
        self.make_subscribers_table(self.dsn)
        self.add_subscribers(self.dsn, [1, 2, 3, 4])
        self.write_config()
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)

    def ok(self, *args, env=None):
        rc, out, err = self.ctl(*args, env=env)
        self.assertEqual(rc, 0, 'dormantctl %s: %s' % (' '.join(args), err))
        return out

    def fails(self, code, *args, config=None):
        """Run a command expected to fail with exit code `code`; check the
        one-line error on stderr and return it."""
        rc, out, err = self.ctl(*args, config=config)
        self.assertEqual(rc, code, 'dormantctl %s: rc %d, stderr %r' % (' '.join(args), rc, err))
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, 'error must be one line: %r' % err)
        return lines[0]

    def events(self, kind=None):
        return self.psql(self.dsn, 'SELECT kind, actor, subscriber_id, detail FROM dormant.event'
                         ' WHERE %s::text IS NULL OR kind = %s ORDER BY id', (kind, kind))

    def plant_pending(self, sid, delivered=True):
        """Plant what a pass and a delivery leave behind for a request."""
        self.psql(self.dsn, "INSERT INTO dormant.account (subscriber_id, state, cycle, rule,"
                  " requested_at, delivered_at, deadline)"
                  " VALUES (%s, 'pending', 1, 'inactive', now() - interval '2 days',"
                  " CASE WHEN %s THEN now() - interval '1 day' END,"
                  " CASE WHEN %s THEN now() + interval '29 days' END)", (sid, delivered, delivered))
        oid = self.scalar(self.dsn, "INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload,"
                          " delivered_at) VALUES ('confirmation.requested', %s, 1,"
                          " jsonb_build_object('type', 'confirmation.requested', 'data',"
                          "  jsonb_build_object('subscriber_id', %s::text, 'email', 'user' || %s"
                          "  || '@example.com', 'confirm_url', 'http://x/c/SECRETTOKEN')),"
                          " CASE WHEN %s THEN now() - interval '1 day' END) RETURNING id",
                          (sid, sid, sid, delivered))
        self.psql(self.dsn, 'UPDATE dormant.account SET request_outbox_id = %s'
                  ' WHERE subscriber_id = %s', (oid, sid))
        self.psql(self.dsn, "INSERT INTO dormant.event (subscriber_id, kind, cycle, actor)"
                  " VALUES (%s, 'requested', 1, 'daemon')", (sid,))

    # -- exit codes -----------------------------------------------------

    def test_usage_errors_exit_64(self):
        self.assertIn('unknown command', self.fails(64, 'frobnicate'))
        self.assertIn('--bogus', self.fails(64, 'status', '--bogus'))
        self.assertIn('missing argument', self.fails(64, 'show'))
        self.assertIn('unexpected argument', self.fails(64, 'pause', 'now'))
        self.assertIn('--reason', self.fails(64, 'exempt', '1'))
        self.assertIn('--reason', self.fails(64, 'confirm', '1'))
        self.assertIn('--until', self.fails(64, 'exempt', '1', '--reason', 'x', '--until'))
        self.assertEqual(self.events(), [])

    def test_bad_data_exits_65_and_writes_nothing(self):
        self.assertEqual(self.fails(65, 'show', '42'), 'dormantctl show: unknown subscriber 42')
        self.assertIn('unknown subscriber 42', self.fails(65, 'export', '42'))
        self.assertIn('invalid subscriber id', self.fails(65, 'show', 'abc'))
        self.assertIn('invalid subscriber id', self.fails(65, 'show', '99999999999999999999999'))
        self.assertIn('unknown subscriber 42', self.fails(65, 'exempt', '42', '--reason', 'x'))
        self.assertIn('bad timestamp', self.fails(65, 'exempt', '1', '--reason', 'x',
                                                  '--until', 'next tuesday-ish'))
        self.assertIn('in the past', self.fails(65, 'exempt', '1', '--reason', 'x',
                                                '--until', '2001-01-01'))
        self.assertIn('no pending request', self.fails(65, 'confirm', '1', '--reason', 'x'))
        self.assertIn('unknown subscriber 42', self.fails(65, 'unexempt', '42'))
        self.assertEqual(self.events(), [])
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.exemption'), 0)

    def test_unmigrated_schema_exits_78(self):
        other = self.fresh_db('ctl_unmigrated')
        self.make_subscribers_table(other)
        conf = self.write_config(dsn=other, name='unmigrated.conf')
        for cmd in (['status'], ['show', '1'], ['pause'], ['export', '1']):
            self.assertIn('not migrated', self.fails(78, *cmd, config=conf))

    def test_bad_config_exits_78(self):
        conf = self.write_config({'policy.inactive_after': 'soon'}, name='bad.conf')
        line = self.fails(78, 'status', config=conf)
        self.assertTrue(line.startswith(conf + ':'), line)

    def test_unreachable_database_exits_69(self):
        conf = self.write_config(dsn='host=127.0.0.1 port=%d dbname=x connect_timeout=5'
                                 % harness.free_port(), name='down.conf')
        for cmd in (['status'], ['migrate'], ['pause'], ['show', '1']):
            self.assertIn('database unreachable', self.fails(69, *cmd, config=conf))

    # -- actions ----------------------------------------------------------

    def test_pause_and_resume_are_stored_and_audited(self):
        out = self.ok('pause', '--reason', 'incident 12', env={'SUDO_USER': 'ana'})
        self.assertIn('paused', out)
        self.assertEqual(self.psql(self.dsn, 'SELECT paused, paused_by FROM dormant.control'),
                         [(True, 'operator:ana')])
        self.assertIn('already paused', self.ok('pause'))
        # $USER is not believed; root's SUDO_USER is (see check_ctl_actor).
        self.ok('resume', env={'SUDO_USER': 'bo', 'USER': 'mallory'})
        self.assertIn('not paused', self.ok('resume'))
        self.assertFalse(self.scalar(self.dsn, 'SELECT paused FROM dormant.control'))
        self.assertEqual(self.events(), [
            ('paused', 'operator:ana', None, {'reason': 'incident 12'}),
            ('unpaused', 'operator:bo', None, {'paused_by': 'operator:ana'})])

    def test_exempt_and_unexempt(self):
        self.ok('exempt', '2', '--reason', 'key account', '--until', '2099-01-01 00:00:00+00',
                env={'SUDO_USER': 'ana'})
        self.assertEqual(self.psql(self.dsn, "SELECT subscriber_id, until = '2099-01-01'::timestamptz,"
                                   " reason, actor FROM dormant.exemption"),
                         [(2, True, 'key account', 'operator:ana')])
        # Exempting again replaces the exemption (indefinite now) and audits it again.
        self.ok('exempt', '2', '--reason', 'board member', env={'SUDO_USER': 'ana'})
        self.assertEqual(self.psql(self.dsn, 'SELECT until, reason FROM dormant.exemption'),
                         [(None, 'board member')])
        status = json.loads(self.ok('status', '--json'))
        self.assertEqual(status['exemptions'], 1)
        self.assertIn('removed', self.ok('unexempt', '2', env={'SUDO_USER': 'bo'}))
        self.assertIn('no exemption', self.ok('unexempt', '2'))
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.exemption'), 0)
        kinds = [(k, a, s) for k, a, s, _ in self.events()]
        self.assertEqual(kinds, [('exempted', 'operator:ana', 2), ('exempted', 'operator:ana', 2),
                                 ('unexempted', 'operator:bo', 2)])

    def test_accept_backlog_takes_the_counted_backlog(self):
        self.assertIn('not tripped', self.ok('accept-backlog'))
        self.assertIsNone(self.scalar(self.dsn, 'SELECT backlog_accepted FROM dormant.control'))
        self.psql(self.dsn, "UPDATE dormant.control SET guards ="
                  " '{\"backlog\": {\"tripped\": true, \"count\": 1234, \"eligible\": 5000}}'")
        status = json.loads(self.ok('status', '--json'))
        self.assertTrue(status['guards']['backlog']['tripped'])
        self.assertRegex(self.ok('status'), r'backlog\s+TRIPPED\s+count=1234')
        self.assertIn('1234', self.ok('accept-backlog', env={'SUDO_USER': 'ana'}))
        self.assertEqual(self.scalar(self.dsn, 'SELECT backlog_accepted FROM dormant.control'),
                         1234)
        self.assertEqual(self.events('backlog_accepted'),
                         [('backlog_accepted', 'operator:ana', None, {'count': 1234})])

    def test_rescan_sets_the_flag(self):
        self.psql(self.dsn, 'UPDATE dormant.control SET rescan = false')
        self.ok('rescan')
        self.assertTrue(self.scalar(self.dsn, 'SELECT rescan FROM dormant.control'))
        self.assertTrue(json.loads(self.ok('status', '--json'))['rescan_requested'])

    def test_confirm_on_behalf(self):
        self.plant_pending(3)
        self.psql(self.dsn, "INSERT INTO dormant.token (hash, subscriber_id, cycle)"
                  " VALUES ('\\x01', 3, 1)")
        self.ok('confirm', '3', '--reason', 'called support', env={'SUDO_USER': 'ana'})
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'
                                     ' WHERE subscriber_id = 3'), 'active')
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.token'), 0)
        ev = self.events('confirmed')
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0][:3], ('confirmed', 'operator:ana', 3))
        self.assertEqual(ev[0][3]['reason'], 'called support')
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.outbox"
                                     " WHERE type = 'subscription.confirmed'"
                                     " AND subscriber_id = 3"), 1)
        # A second confirmation has nothing to confirm.
        self.fails(65, 'confirm', '3', '--reason', 'again')

    # -- reading ----------------------------------------------------------

    def test_status_counts(self):
        self.plant_pending(1)
        self.plant_pending(2, delivered=False)
        self.psql(self.dsn, "INSERT INTO dormant.account (subscriber_id, state, suspended_at)"
                  " VALUES (3, 'suspended', now())")
        self.psql(self.dsn, "UPDATE dormant.outbox SET dead_at = now() WHERE subscriber_id = 2")
        self.psql(self.dsn, "UPDATE dormant.control SET last_pass_at = now(), last_pass_ms = 41,"
                  " last_pass_outcome = 'ok', last_pass = '{\"requested\": 2}'")
        s = json.loads(self.ok('status', '--json'))
        self.assertEqual(s['accounts'], {'active': 0, 'pending': 2, 'suspended': 1, 'erased': 0})
        self.assertEqual(s['outbox'], {'pending': 0, 'delivered': 1, 'dead': 1})
        self.assertEqual(s['undeliverable_requests'], 1)
        self.assertEqual(s['last_pass']['duration_ms'], 41)
        self.assertEqual(s['last_pass']['outcome'], 'ok')
        self.assertFalse(s['paused'])
        text = self.ok('status')
        self.assertRegex(text, r'pending\s+2\n')
        self.assertRegex(text, r'suspended\s+1\n')
        self.assertRegex(text, r'last pass\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, 41 ms, ok')
        self.assertIn('requested=2', text)
        self.assertIn('1 delivered, 1 dead', text)

    def test_show_tells_the_story(self):
        self.plant_pending(4)
        self.psql(self.dsn, "UPDATE dormant.account SET state = 'suspended', suspended_at = now(),"
                  " deadline = now() - interval '1 second' WHERE subscriber_id = 4")
        self.psql(self.dsn, "INSERT INTO dormant.event (subscriber_id, kind, cycle, actor)"
                  " VALUES (4, 'suspended', 1, 'daemon')")
        doc = json.loads(self.ok('show', '4', '--json'))
        self.assertEqual(doc['subscriber_id'], '4')
        self.assertEqual(doc['account']['state'], 'suspended')
        self.assertEqual([e['kind'] for e in doc['events']], ['requested', 'suspended'])
        self.assertEqual([m['type'] for m in doc['messages']], ['confirmation.requested'])
        self.assertIsNotNone(doc['messages'][0]['delivered_at'])
        self.assertNotIn('email', json.dumps(doc['source']))
        text = self.ok('show', '4')
        self.assertRegex(text, r'state\s+suspended')
        self.assertRegex(text, r'why\s+no answer by the deadline .*request delivered')
        self.assertRegex(text, r'confirmation.requested\s+\S+ \S+\s+delivered')
        self.assertNotIn('SECRETTOKEN', text)
        self.assertNotIn('@example.com', text)
        # An exempt subscriber says so.
        self.ok('exempt', '4', '--reason', 'VIP')
        self.assertRegex(self.ok('show', '4'), r'state\s+suspended, exempt')

    def test_export_holds_everything(self):
        self.plant_pending(1, delivered=False)
        doc = json.loads(self.ok('export', '1'))
        self.assertEqual(doc['source']['email'], 'user1@example.com')
        self.assertEqual(doc['source']['billing'], 'active')
        self.assertEqual(doc['source']['locale'], 'en')
        self.assertIsNotNone(doc['source']['last_activity_at'])
        self.assertEqual(doc['account']['state'], 'pending')
        self.assertEqual(doc['messages'][0]['payload']['data']['email'], 'user1@example.com')
        self.assertEqual(len(doc['events']), 1)
        # The live link of an undelivered request is a credential: never exported.
        self.assertNotIn('SECRETTOKEN', json.dumps(doc))
        # A subscriber dormant never touched still exports their source row.
        doc = json.loads(self.ok('export', '2', '--json'))
        self.assertIsNone(doc['account'])
        self.assertEqual(doc['events'], [])
        self.assertEqual(doc['source']['email'], 'user2@example.com')


class CtlUuidIds(harness.DaemonTestCase):

    def test_uuid_ids_cast_and_reject(self):
        dsn = self.fresh_db('ctl_uuid')
        self.make_subscribers_table(dsn, id_type='uuid')
        sid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'
        self.add_subscribers(dsn, [sid])
        self.write_config()
        self.assertEqual(self.ctl('migrate')[0], 0)
        rc, out, err = self.ctl('show', sid, '--json')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['subscriber_id'], sid)
        rc, out, err = self.ctl('show', '42')
        self.assertEqual(rc, 65)
        self.assertIn('invalid subscriber id', err)
        rc, out, err = self.ctl('show', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
        self.assertEqual(rc, 65)
        self.assertIn('unknown subscriber', err)


if __name__ == '__main__':
    harness.main()
