"""The safety guards of DESIGN section 2 against the real dormantd: stale
activity feed, first-run backlog and its acceptance, the rolling 24 h rate,
the pause flag in the database and SIGUSR1, and dry runs."""

import signal
import time

import harness
from enginelib import EngineTestCase


class Guards(EngineTestCase):

    def guards(self):
        return self.one('SELECT guards FROM dormant.control')

    def test_stale_activity_feed_stops_requests_and_suspensions(self):
        self.setup_db(limits__max_activity_lag='1 day', policy__confirm_within='1 second',
                      policy__reminders=[])
        self.add_subscribers(self.dsn, [1, 2])
        self.add_subscribers(self.dsn, [3], active_ago='2 hours')
        self.once()
        self.assertEqual(self.pending(), ['1', '2'])
        self.ack()
        time.sleep(2.1)  # a deadline is the end of a second: up to 2 s away
        # The feed stops: the newest activity is now older than the lag.
        self.q("UPDATE subscribers SET last_activity_at = now() - interval '2 days' WHERE id = 3")
        self.add_subscribers(self.dsn, [4])
        self.q('UPDATE dormant.control SET rescan = true')  # as after an import
        self.once()
        self.assertRegex(self.log_text(), r'level=error msg="guard tripped: the activity feed')
        self.assertEqual(self.pending(), ['1', '2'])  # neither suspended nor newly requested
        self.assertTrue(self.guards()['stale_activity']['tripped'])
        # Answers still count while the guard holds: subscriber 1 was active
        # after the request (both backdated so the feed stays stale).
        self.q("UPDATE dormant.account SET requested_at = requested_at - interval '3 days'"
               " WHERE subscriber_id = 1")
        self.q("UPDATE subscribers SET last_activity_at = now() - interval '2 days' WHERE id = 1")
        self.once()
        self.assertTrue(self.guards()['stale_activity']['tripped'])
        self.assertEqual(self.states()['1'], 'active')
        self.assertEqual(self.pending(), ['2'])
        # The feed comes back: suspensions and requests go on.
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 3')
        self.once()
        self.assertFalse(self.guards()['stale_activity']['tripped'])
        self.assertEqual(self.states()['2'], 'suspended')
        self.assertEqual(self.states()['4'], 'pending')

    def test_backlog_waits_for_acceptance(self):
        self.setup_db(limits__max_backlog_fraction=0.25)
        self.add_subscribers(self.dsn, range(1, 10))                       # 9 inactive
        self.add_subscribers(self.dsn, range(10, 13), active_ago='1 hour')  # 3 active
        self.once()
        self.assertEqual(self.pending(), [])
        g = self.guards()['backlog']
        self.assertTrue(g['tripped'])
        self.assertEqual((g['count'], g['eligible']), (9, 12))
        self.assertRegex(self.log_text(), r'level=error msg="guard tripped: backlog too large')
        self.once()  # still held, every pass
        self.assertEqual(self.pending(), [])
        # What dormantctl accept-backlog records.
        self.q('UPDATE dormant.control SET backlog_accepted = 9')
        self.once()
        self.assertEqual(len(self.pending()), 9)
        self.assertFalse(self.guards()['backlog']['tripped'])
        self.assertIsNone(self.one('SELECT backlog_accepted FROM dormant.control'))
        # A trickle below the fraction needs no acceptance.
        self.add_subscribers(self.dsn, [13])
        self.q('UPDATE dormant.control SET rescan = true')
        self.once()
        self.assertEqual(len(self.pending()), 10)

    def test_rate_limit_oldest_inactivity_first(self):
        self.setup_db(limits__max_requests_per_day=3)
        for i in range(1, 8):
            self.add_subscribers(self.dsn, [i], active_ago='%d years' % (10 - i))
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])  # the longest inactive
        self.assertRegex(self.log_text(), r'level=error msg="guard tripped: max_requests_per_day')
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.assertTrue(self.guards()['rate']['tripped'])
        # The window rolls: yesterday's requests no longer count.
        self.age_requests('25 hours')
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3', '4', '5', '6'])

    def test_pause_in_database_and_by_signal(self):
        self.setup_db(policy__confirm_within='1 second', policy__reminders=[])
        self.add_subscribers(self.dsn, [1, 2])
        # A live feed: 2's suspension waits for it to pass the deadline.
        self.start_feed(self.dsn)
        self.q('UPDATE dormant.control SET paused = true')
        self.once()
        self.assertEqual(self.pending(), [])
        self.assertTrue(self.guards()['paused'])
        self.q('UPDATE dormant.control SET paused = false')
        self.once()
        self.assertEqual(self.pending(), ['1', '2'])
        self.ack()
        # SIGUSR1 pauses this process: nothing is suspended; activity still resumes.
        mark = self.log_mark()
        self.start_daemon()
        self.wait_log(r'msg="pass done"', since=mark)
        self.signal_daemon(signal.SIGUSR1)
        self.wait_log(r'paused by SIGUSR1', since=mark)
        time.sleep(1.5)
        self.q('UPDATE subscribers SET last_activity_at = now() WHERE id = 1')
        self.wait_for(lambda: self.states()['1'] == 'active', what='resume while paused')
        self.wait_next_pass(self.dsn)  # a whole pass while paused (an idle one logs at debug)
        self.assertTrue(self.guards()['paused'])
        self.assertEqual(self.states()['2'], 'pending')
        self.signal_daemon(signal.SIGUSR2)
        self.wait_for(lambda: self.states()['2'] == 'suspended', what='suspension after SIGUSR2')
        self.stop_daemon()

    def test_dry_run_writes_nothing(self):
        self.setup_db()
        self.add_subscribers(self.dsn, [1, 2, 3])
        before = self.q('SELECT * FROM dormant.control')
        self.once('--dry-run')
        self.assertRegex(self.log_text(), r'msg="dry run: would act" step=request_inactive count=3')
        self.assertRegex(self.log_text(), r'msg="pass done" requested=3 .*dry_run=true')
        self.assertEqual(self.q('SELECT * FROM dormant.control'), before)
        for table in ('account', 'event', 'outbox', 'token'):
            self.assertEqual(self.one('SELECT count(*) FROM dormant.%s' % table), 0, table)
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3'])


if __name__ == '__main__':
    harness.main()
