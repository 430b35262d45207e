"""Promise 4 of DESIGN section 1, against the real dormantd: nobody falls out
for good. A subscriber who becomes due by a path the watermarks cannot see
(a row imported with old activity, a lifted exemption, billing set back to
active, a changed eligibility) is requested without anyone running
`dormantctl rescan`, within limits.sweep_period + limits.poll_interval, and
the guards (backlog, rate, stale feed) apply to what the sweep finds exactly
as they do to what the watermarks find."""

import json
import time

import harness
from enginelib import EngineTestCase


class Sweep(EngineTestCase):
    """The sweep runs at the end of a pass; what it finds is counted by the
    guards of the next pass and asked there (hence sweep() = two passes)."""

    def sweep(self):
        self.once()
        self.once()

    def settle(self):
        """A first pass over a source with one inactive subscriber (1) and one
        active one (100): the watermarks move past everything there is."""
        self.add_subscribers(self.dsn, [1])
        self.add_subscribers(self.dsn, [100], active_ago='1 hour')
        self.once()
        self.assertEqual(self.pending(), ['1'])
        self.assertIsNotNone(self.one('SELECT inactive_mark FROM dormant.control'))

    def test_row_imported_with_old_activity(self):
        self.setup_db()
        self.settle()
        # An import: rows whose activity is older than the watermark.
        self.add_subscribers(self.dsn, [2, 3], active_ago='5 years')
        self.add_subscribers(self.dsn, [4], created_ago='3 years', active_ago=None)
        self.sweep()
        self.assertEqual(self.pending(), ['1', '2', '3', '4'])
        self.assert_exactly_once('requested', [1, 2, 3, 4], 'confirmation.requested')
        rules = {e[0]: e[4]['rule'] for e in self.events('requested')}
        self.assertEqual((rules['2'], rules['4']), ('inactive', 'never_active'))
        # Found once, asked once: later passes find nothing new.
        self.sweep()
        self.assert_exactly_once('requested', [1, 2, 3, 4], 'confirmation.requested')
        # The operator sees the sweep's rounds.
        rc, out, err = self.ctl('status', '--json')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['sweep']['last_round_rows'], 5)
        self.assertEqual(json.loads(out)['last_pass']['counts']['swept'], 5)
        rc, out, err = self.ctl('status')
        self.assertRegex(out, r'sweep\s+last round done \d{4}-\d\d-\d\d .* \(5 rows\)')
        self.assertRegex(self.log_text(), r'msg="pass done" .*withdrawn=0 swept=5 found=0 ')

    def test_lifted_exemption(self):
        self.setup_db()
        self.add_subscribers(self.dsn, [5])
        rc, out, err = self.ctl('exempt', '5', '--reason', 'VIP')
        self.assertEqual(rc, 0, err)
        self.settle()
        self.assertNotIn('5', self.pending())
        rc, out, err = self.ctl('unexempt', '5')
        self.assertEqual(rc, 0, err)
        self.sweep()
        self.assertIn('5', self.pending())

    def test_billing_set_back_to_active(self):
        self.setup_db()
        self.add_subscribers(self.dsn, [6], billing='past_due')
        self.settle()
        self.assertNotIn('6', self.pending())
        self.q("UPDATE subscribers SET billing_status = 'active' WHERE id = 6")
        self.sweep()
        self.assertIn('6', self.pending())

    def test_changed_eligibility(self):
        self.setup_db(source__eligible="s.locale IS DISTINCT FROM 'xx'")
        self.add_subscribers(self.dsn, [7], locale='xx')
        self.settle()
        self.assertNotIn('7', self.pending())
        self.q("UPDATE subscribers SET locale = 'en' WHERE id = 7")
        self.sweep()
        self.assertIn('7', self.pending())

    def test_requested_within_sweep_period_and_poll_interval(self):
        # A running daemon over a table larger than one page: whoever
        # becomes due is asked within sweep_period + poll_interval.
        self.setup_db(limits__sweep_period='4 seconds', limits__batch_size=200)
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, billing_status)"
               " SELECT i, 'user' || i || '@example.com', now() - interval '3 years',"
               "        now() - interval '1 hour', 'active' FROM generate_series(1, 3000) i")
        self.q('ANALYZE subscribers')
        self.start_daemon()
        self.wait_log(r'msg="pass done"')
        time.sleep(1)
        self.assertEqual(self.pending(), [])
        # Three ways to become due without the watermarks seeing it, at T.
        self.q("UPDATE subscribers SET last_activity_at = now() - interval '3 years',"
               " billing_status = 'cancelled' WHERE id IN (1500, 2999)")
        time.sleep(1.5)
        t = time.monotonic()
        self.q("UPDATE subscribers SET billing_status = 'active' WHERE id IN (1500, 2999)")
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at)"
               " VALUES (3001, 'user3001@example.com', now() - interval '3 years',"
               "         now() - interval '4 years')")
        self.wait_for(lambda: self.pending() == ['1500', '2999', '3001'], timeout=20,
                      what='the sweep to find 1500, 2999 and 3001')
        took = time.monotonic() - t
        self.assertLess(took, 4 + 1 + 2.5, 'requested %.1f s after becoming due' % took)
        self.stop_daemon()


class SweepGuards(EngineTestCase):

    def test_backlog_guard_counts_what_the_sweep_finds(self):
        self.setup_db(limits__max_backlog_fraction=0.25)
        self.add_subscribers(self.dsn, range(10, 22), active_ago='1 hour')  # 12 active
        self.once()
        self.assertEqual(self.pending(), [])
        # An import of 9 long-inactive subscribers: 9 of 21 would be asked.
        self.add_subscribers(self.dsn, range(1, 10), active_ago='5 years')
        self.once()
        self.once()
        self.assertEqual(self.pending(), [])
        g = self.one('SELECT guards FROM dormant.control')['backlog']
        self.assertTrue(g['tripped'], g)
        self.assertEqual((g['count'], g['eligible']), (9, 21))
        self.once()
        self.assertEqual(self.pending(), [])
        rc, out, err = self.ctl('accept-backlog')
        self.assertEqual(rc, 0, err)
        self.once()
        self.assertEqual(len(self.pending()), 9)

    def test_rate_guard_oldest_inactivity_first(self):
        self.setup_db(limits__max_requests_per_day=3)
        self.add_subscribers(self.dsn, [100], active_ago='1 hour')
        self.once()
        for i in range(1, 6):
            self.add_subscribers(self.dsn, [i], active_ago='%d years' % (10 - i))
        self.once()
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.age_requests('25 hours')
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3', '4', '5'])

    def test_stale_feed_holds_what_the_sweep_finds(self):
        self.setup_db(limits__max_activity_lag='1 day')
        self.add_subscribers(self.dsn, [100], active_ago='1 hour')
        self.once()
        self.q("UPDATE subscribers SET last_activity_at = now() - interval '2 days'"
               " WHERE id = 100")
        self.add_subscribers(self.dsn, [1], active_ago='5 years')
        self.once()
        self.once()
        self.assertEqual(self.pending(), [])
        self.assertTrue(self.one('SELECT guards FROM dormant.control')['stale_activity']['tripped'])
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 100')
        self.once()
        self.assertEqual(self.pending(), ['1'])


if __name__ == '__main__':
    harness.main()
