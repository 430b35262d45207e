"""The database stopped and restarted under a running dormantd in the middle
of a backlog: the daemon keeps running, says so once, reconnects, takes the
scanning lock again and finishes the work, every transition exactly once.

This test stops the shared test server, so CMakeLists.txt runs it alone
(RUN_SERIAL)."""

import time

import harness
from enginelib import EngineTestCase


class Outage(EngineTestCase):

    def test_database_restart_mid_backlog(self):
        self.setup_db(limits__batch_size=20)
        self.q("INSERT INTO subscribers (id, email, created_at, last_activity_at, locale,"
               " billing_status)"
               " SELECT i, 'user' || i || '@example.com', now() - interval '4 years',"
               "        now() - interval '3 years' + i * interval '1 second', 'en', 'active'"
               "   FROM generate_series(1, 20000) i")
        self.start_daemon()
        self.wait_for(lambda: self.one('SELECT count(*) FROM dormant.account') > 0,
                      interval=0.02, what='the first requests')
        self.pg_stop()
        time.sleep(2)
        self.assertIsNone(self.daemon.poll(), 'dormantd exited during the outage')
        self.pg_start()
        self.wait_log(r'msg="database connection restored" conn=pass')
        self.wait_for(lambda: self.one("SELECT count(*) FROM dormant.account"
                                       " WHERE state = 'pending'") == 20000,
                      timeout=120, what='20000 requests')
        self.wait_log(r'msg="pass done"')
        self.assertEqual(self.stop_daemon(), 0)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.event WHERE kind = 'requested'"),
                         20000)
        self.assertEqual(self.one("SELECT count(DISTINCT subscriber_id) FROM dormant.event"
                                  " WHERE kind = 'requested'"), 20000)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.outbox"), 20000)
        self.assertEqual(self.one("SELECT count(DISTINCT subscriber_id) FROM dormant.outbox"),
                         20000)
        self.assertEqual(self.one('SELECT count(*) FROM dormant.token'), 20000)
        log = self.log_text()
        self.assertEqual(log.count('msg="database unreachable" conn=pass'), 1, log[-3000:])
        self.assertIn('msg="pass failed"', log)
        self.assertIn('msg="scanning leader', log)


if __name__ == '__main__':
    harness.main()
