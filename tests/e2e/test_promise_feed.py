"""Promise 1, nobody who used the service is suspended for not using it
(DESIGN.md section 1; issue 11 case 5): a suspension waits until the
activity feed has caught up with the deadline (the newest activity in the
source, ignoring the future, at or after it); the suspending statement
locks the source row and checks activity again, so a write that commits
meanwhile is seen; activity dated before that horizon but written after
the suspension is recorded (event used_while_suspended) and sent to the
application (message subscription.used_while_suspended), which alone may
charge again."""

import json
import time

import harness
from feedlib import FeedTestCase, sample_ids


class DailyBatchFeed(FeedTestCase):
    """Activity arrives once a day, from an import: at any moment the newest
    activity is hours old."""

    def run_case(self, id_type):
        self.setup_typed(id_type=id_type, overrides={'policy.confirm_within': '2 seconds',
                                                     'policy.reminders': []})
        a, b, w = sample_ids(id_type, 3)
        self.add([a, b], "now() - interval '4 years'", "now() - interval '3 years'")
        # The last import covered activity up to an hour ago.
        self.add([w], "now() - interval '4 years'", "now() - interval '1 hour'", billing='staff')
        self.once()
        self.assertEqual(self.pending(), sorted([str(a), str(b)]))
        self.ack()
        time.sleep(3.1)  # the deadline is the end of a second: up to 3 s away
        # Deadlines passed, but the feed has not reached them: a may have
        # watched on the deadline day; nobody is suspended yet.
        self.once()
        self.assertEqual(sorted(self.pending()), sorted([str(a), str(b)]))
        self.assertEqual(self.events('suspended'), [])
        self.assertEqual(self.billing_of(a), 'active')
        # The operator is told why: both wait for the feed, whose horizon is
        # the last import.
        horizon = self.one("SELECT to_char(last_activity_at AT TIME ZONE 'UTC',"
                           " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM subscribers WHERE id = %s",
                           (w,))
        rc, out, err = self.ctl('status', '--json')
        self.assertEqual(rc, 0, err)
        held = json.loads(out)['held_by_feed']
        self.assertEqual(held['suspensions'], 2)
        rc, out, err = self.ctl('status')
        self.assertTrue(out.startswith('dormant: HELD\n'), out)
        self.assertIn('2 suspensions wait for the activity feed', out.splitlines()[1])
        self.assertIn(horizon, out.splitlines()[1])
        rc, out, err = self.ctl('preview')
        self.assertEqual(rc, 0, err)
        self.assertIn('held: 2 suspensions wait for the activity feed to reach their deadlines'
                      ' (newest activity %s)' % horizon, out)
        rc, out, err = self.ctl('preview', '--json')
        self.assertEqual(json.loads(out)['warnings']['held_by_feed'], 2)
        self.assertEqual(json.loads(out)['warnings']['horizon'], horizon)
        # The next import: a watched before the deadline, the feed reaches now.
        self.q("UPDATE subscribers SET last_activity_at = ("
               " SELECT requested_at + interval '1 second' FROM dormant.account"
               "  WHERE subscriber_id = %s) WHERE id = %s", (a, a))
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = %s', (w,))
        self.once()
        self.assertEqual(self.state_of(a), 'active')
        self.assertIn('resumed', self.kinds_of(a))
        self.assertEqual(self.billing_of(a), 'active')
        self.assertEqual(self.state_of(b), 'suspended')
        self.assertEqual(self.billing_of(b), 'suspended')
        horizon = self.one("SELECT max(last_activity_at) FROM subscribers"
                           " WHERE id = %s", (w,))
        deadline = self.one('SELECT deadline FROM dormant.account WHERE subscriber_id = %s', (b,))
        self.assertGreaterEqual(horizon, deadline)

        # A late import: b's activity dated after the request, written after
        # the suspension. Recorded and sent to the application, which alone
        # may charge again: dormant leaves billing as it is.
        self.q("UPDATE subscribers SET last_activity_at = ("
               " SELECT requested_at + interval '1 second' FROM dormant.account"
               "  WHERE subscriber_id = %s) WHERE id = %s", (b, b))
        self.once()
        self.assertEqual(self.kinds_of(b).count('used_while_suspended'), 1)
        msgs = [m for m in self.messages('subscription.used_while_suspended') if m[2] == str(b)]
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][3]['type'], 'subscription.used_while_suspended')
        self.assertEqual(msgs[0][3]['data']['subscriber_id'], str(b))
        self.assertRegex(msgs[0][3]['data']['last_activity_at'], r'Z$')
        self.assertEqual(self.state_of(b), 'suspended')
        self.assertEqual(self.billing_of(b), 'suspended')
        # Once per cycle.
        self.once()
        self.assertEqual(self.kinds_of(b).count('used_while_suspended'), 1)

    def test_bigint(self):
        self.run_case('bigint')

    def test_text(self):
        self.run_case('text')


class RowLock(FeedTestCase):
    """An activity write that commits while the suspension runs is seen."""

    def run_case(self, id_type):
        self.setup_typed(id_type=id_type, overrides={'policy.confirm_within': '1 second',
                                                     'policy.reminders': []})
        a, w = sample_ids(id_type, 2)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(w)
        self.once()
        self.assertEqual(self.pending(), [str(a)])
        self.ack()
        time.sleep(1.5)
        self.wait_feed_caught_up(self.dsn)
        # The application is writing a's activity, in a transaction that
        # has not committed yet when the pass reaches the suspension.
        writer = harness.psycopg2.connect(self.dsn)
        self.addCleanup(writer.close)
        with writer.cursor() as cur:
            cur.execute('UPDATE subscribers SET last_activity_at = now() WHERE id = %s', (a,))
        p = self.start_daemon(self.config, '--once')
        # The pass waits for the row (or, without the lock, finishes at once).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and p.poll() is None:
            waiting = self.one("SELECT count(*) FROM pg_stat_activity"
                               " WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if waiting:
                break
            time.sleep(0.05)
        writer.commit()
        self.assertEqual(self.wait_exit(p), 0, self.output_tail())
        if self.state_of(a) == 'pending':
            self.once()  # the pass may have left a to the next one
        self.assertEqual(self.state_of(a), 'active')
        self.assertNotIn('suspended', self.kinds_of(a))
        self.assertEqual(self.billing_of(a), 'active')

    def test_integer(self):
        self.run_case('integer')

    def test_uuid(self):
        self.run_case('uuid')


class LateAmongMany(FeedTestCase):
    """Many subscribers suspended, as after a first run: a late write, or
    billing set back to active, for the last of them is found by the next
    pass, not when the walk over every suspended account comes round to it
    (issue 10, seed 101: 1,000 suspended, batches of 25, 40 passes)."""

    def test_found_next_pass(self):
        n = 301
        self.setup_typed(overrides={'policy.confirm_within': '1 second',
                                    'policy.reminders': [], 'limits.batch_size': 10,
                                    'limits.max_activity_lag': '6 seconds'})
        self.add(range(1, n + 1), "now() - interval '4 years'", "now() - interval '3 years'")
        self.start_feed(1000)
        self.once()
        self.assertEqual(len(self.pending()), n)
        self.ack()
        time.sleep(2.1)  # the deadline is the end of a second
        suspended = 0
        for _ in range(5):
            self.wait_feed_caught_up(self.dsn)
            self.once()
            suspended = self.one("SELECT count(*) FROM dormant.account"
                                 " WHERE state = 'suspended'")
            if suspended == n:
                break
        self.assertEqual(suspended, n)
        # The walk begins: a pass looks at ten pages of ten from the start.
        self.once()

        # The feed's late write for the last one, and the application
        # charging the one before it again.
        self.q("UPDATE subscribers SET last_activity_at = ("
               " SELECT requested_at + interval '1 second' FROM dormant.account"
               "  WHERE subscriber_id = %s) WHERE id = %s", (n, n))
        self.q("UPDATE subscribers SET billing_status = 'active' WHERE id = %s", (n - 1,))
        self.once()
        self.assertEqual(self.kinds_of(n).count('used_while_suspended'), 1)
        self.assertEqual(self.state_of(n), 'suspended')
        self.assertEqual(self.billing_of(n), 'suspended')
        self.assertEqual(self.kinds_of(n - 1).count('reactivated'), 1)
        self.assertEqual(self.state_of(n - 1), 'active')

        # Suspended longer ago than limits.max_activity_lag: the walk finds
        # it, within the passes it takes to come round (ten pages a pass).
        time.sleep(6.5)
        self.q("UPDATE subscribers SET last_activity_at = ("
               " SELECT requested_at + interval '1 second' FROM dormant.account"
               "  WHERE subscriber_id = %s) WHERE id = %s", (n - 2, n - 2))
        for _ in range(n // 100 + 2):
            self.once()
        self.assertEqual(self.kinds_of(n - 2).count('used_while_suspended'), 1)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.event"
                                  " WHERE kind = 'used_while_suspended'"), 2)


if __name__ == '__main__':
    harness.main()
