"""Crash safety of the lifecycle engine: two daemons on one backlog, and
kill -9 at random moments during a 5,000-subscriber backlog, restarted ten
times: every transition happens exactly once."""

import os
import random
import re
import signal
import time

import harness
from enginelib import EngineTestCase


class Crash(EngineTestCase):

    def bulk_subscribers(self, n, start=1):
        """n inactive subscribers, ids start..start+n-1, oldest first."""
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale,"
               " billing_status)"
               " SELECT i, 'user' || i || '@example.com', now() - interval '4 years',"
               "        now() - interval '3 years' + i * interval '1 second', 'en', 'active'"
               "   FROM generate_series(%s, %s) i", (start, start + n - 1))

    def assert_ledger(self, ids, suspended):
        """Per subscriber: one requested event and message, cycle 1; and when
        suspended, one suspended event and message, billing written."""
        self.assertEqual(self.one('SELECT count(*) FROM dormant.account'), len(ids))
        self.assertEqual(self.one('SELECT max(cycle) FROM dormant.account'), 1)
        self.assert_exactly_once('requested', ids, 'confirmation.requested')
        if suspended:
            self.assert_exactly_once('suspended', ids, 'subscription.suspended')
            self.assertEqual(self.one("SELECT count(*) FROM subscribers"
                                      " WHERE billing_status = 'suspended'"), len(ids))
            self.assertEqual(self.one('SELECT count(*) FROM dormant.token'), 0)
        else:
            self.assertEqual(self.one('SELECT count(*) FROM dormant.token'), len(ids))

    def test_two_daemons_one_backlog(self):
        self.setup_db(limits__batch_size=100, policy__confirm_within='1 second',
                      policy__reminders=[])
        self.bulk_subscribers(3000)
        self.start_feed(self.dsn)
        conf_a = self.write_config({'limits.batch_size': 100,
                                    'policy.confirm_within': '1 second',
                                    'policy.reminders': []}, dsn=self.dsn, name='a.conf')
        conf_b = self.write_config({'limits.batch_size': 100,
                                    'policy.confirm_within': '1 second',
                                    'policy.reminders': []}, dsn=self.dsn, name='b.conf')
        a = self.start_daemon(conf_a)
        b = self.start_daemon(conf_b)
        self.wait_for(lambda: len(self.pending()) == 3000, what='3000 requests')
        self.assert_ledger(range(1, 3001), suspended=False)
        leader = self.one('SELECT leader FROM dormant.control')
        pid = int(leader.rsplit(':', 1)[1])
        self.assertIn(pid, (a.pid, b.pid))
        self.assertEqual(len(re.findall(r'msg="scanning leader', self.log_text())), 1)
        # The leader dies; the other takes over and finishes the work.
        other = b if pid == a.pid else a
        os.kill(pid, signal.SIGKILL)
        (a if pid == a.pid else b).wait()
        self.ack()
        self.wait_for(lambda: self.one("SELECT leader FROM dormant.control")
                      == leader.rsplit(':', 1)[0] + ':%d' % other.pid, what='a new leader')
        self.wait_for(lambda: self.one("SELECT count(*) FROM dormant.account"
                                       " WHERE state = 'suspended'") == 3000,
                      what='3000 suspensions')
        self.stop_daemon(other)
        self.assert_ledger(range(1, 3001), suspended=True)

    def test_kill9_during_backlog(self):
        seed = int(os.environ.get('DM_TEST_SEED') or time.time())
        print('kill -9 test: DM_TEST_SEED=%d' % seed)
        rnd = random.Random(seed)
        self.setup_db(limits__batch_size=100, policy__confirm_within='1 second',
                      policy__reminders=[])
        self.bulk_subscribers(5000)
        self.start_feed(self.dsn)
        kills = 0
        for i in range(10):
            p = self.start_daemon()
            time.sleep(rnd.uniform(0.05, 0.6))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            if i == 4:
                self.ack()  # from here on suspensions are due as well
        self.assertGreaterEqual(kills, 8)
        self.start_daemon()

        def all_suspended():
            self.ack()
            return self.one("SELECT count(*) FROM dormant.account"
                            " WHERE state = 'suspended'") == 5000
        self.wait_for(all_suspended, timeout=120, interval=0.5, what='5000 suspensions')
        self.stop_daemon()
        self.assert_ledger(range(1, 5001), suspended=True)


if __name__ == '__main__':
    harness.main()
