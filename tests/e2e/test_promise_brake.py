"""DESIGN section 1 promise 7, the brake: after SIGUSR1 or `dormantctl pause`
at time T, no transition statement sent after T commits and no delivery
starts after T. Issue 11 case 3: the brake was read only between steps, and
erasures went on by the hundreds after SIGUSR1.

Each test keeps one step busy (thousands of subscribers, two per batch),
pulls the brake in the middle of it, reads T from the database's clock
right after, and counts the transitions stamped later than T: a statement
that was already running at T began before it, so anything later was sent
after the brake."""

import signal

import harness
from promiselib import PromiseTestCase

POPULATION = 4000


class Brake(PromiseTestCase):

    def start_erasing(self):
        self.setup_db(policy__erase_after='1 year', limits__batch_size=2)
        self.suspended_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('erased', 20)

    def assert_braked(self, kind, t, total):
        """Nothing of kind stamped after t, now or a while later."""
        before = self.count_events(kind)
        self.assertLess(before, total, 'the step ended before the brake: the test proves nothing')
        self.settle(3)
        self.assertEqual(self.count_events(kind, after=t), 0,
                         '%s after the brake (%d before it, %d now)'
                         % (kind, before, self.count_events(kind)))

    def test_sigusr1_stops_erasures_at_once(self):
        self.start_erasing()
        self.signal_daemon(signal.SIGUSR1)
        t = self.db_clock()
        self.assert_braked('erased', t, POPULATION)
        self.wait_log(r'msg="paused by SIGUSR1')
        # The brake holds across passes, and SIGUSR2 releases it.
        self.signal_daemon(signal.SIGUSR2)
        self.wait_for(lambda: self.count_events('erased') == POPULATION, timeout=120,
                      what='every erasure after SIGUSR2')
        self.assertEqual(self.stop_daemon(), 0)

    def test_dormantctl_pause_stops_erasures_at_once(self):
        self.start_erasing()
        rc, out, err = self.ctl('pause', '--reason', 'incident')
        self.assertEqual(rc, 0, err)
        t = self.db_clock()
        self.assert_braked('erased', t, POPULATION)
        rc, out, err = self.ctl('resume')
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: self.count_events('erased') == POPULATION, timeout=120,
                      what='every erasure after resume')
        self.assertEqual(self.stop_daemon(), 0)

    def test_sigusr1_stops_requests_at_once(self):
        self.setup_db(limits__batch_size=2)
        self.never_active_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('requested', 20)
        self.signal_daemon(signal.SIGUSR1)
        t = self.db_clock()
        self.assert_braked('requested', t, POPULATION)
        self.assertEqual(self.stop_daemon(), 0)

    def test_dormantctl_pause_stops_requests_and_loses_nobody(self):
        """A paused request statement requests nobody and leaves the
        watermark where it was: after resume everyone is asked."""
        self.setup_db(limits__batch_size=2)
        self.never_active_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('requested', 20)
        rc, out, err = self.ctl('pause')
        self.assertEqual(rc, 0, err)
        t = self.db_clock()
        self.assert_braked('requested', t, POPULATION)
        rc, out, err = self.ctl('resume')
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: self.count_events('requested') == POPULATION, timeout=120,
                      what='every request after resume')
        self.assertEqual(self.stop_daemon(), 0)

    def test_a_pause_committed_before_a_statement_wins_in_the_statement(self):
        """A second instance that has not read the pause yet: its
        statements themselves refuse to move anyone once the pause has
        committed. The daemon is made slow to read the pause by a long
        poll interval; erasures are already under way."""
        self.setup_db(policy__erase_after='1 year', limits__batch_size=2,
                      limits__poll_interval='1 hour')
        self.suspended_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('erased', 20)
        rc, out, err = self.ctl('pause')
        self.assertEqual(rc, 0, err)
        t = self.db_clock()
        self.assert_braked('erased', t, POPULATION)
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
