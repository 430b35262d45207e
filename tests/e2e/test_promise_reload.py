"""DESIGN section 1 promise 7, reloads: a reload never changes the statements
of a pass in flight; the new configuration applies from the next pass, and
no reload can crash the daemon. Issue 11 case 4: a SIGHUP that turned off
the step that was running (erase_after = "" during the erase step; the same
for reminders and the never-active rule) crashed dormantd with SIGSEGV;
since the SQL moved to lib/sql it failed the pass in flight instead
(PGRES_EMPTY_QUERY). Either way the pass in flight did not keep its
statements: these tests require it to end well."""

import os
import re
import signal

import harness
from promiselib import PromiseTestCase

POPULATION = 3000


class Reload(PromiseTestCase):

    def reload_with(self, overrides):
        """Rewrites the configuration with overrides (same port) and sends SIGHUP."""
        listen = '127.0.0.1:%d' % self.http_port
        conf = dict(overrides)
        conf['http.listen'] = listen
        self.write_config(conf, dsn=self.dsn, name=os.path.basename(self.config))
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded"', since=mark)
        return mark

    def next_passes(self, n, since):
        """Waits for n more passes to end well after mark since (none
        failed: the pass in flight kept its statements); the daemon lives."""
        start = since
        for _ in range(n):
            # The control row, not the log: an idle pass logs at debug only.
            self.wait_next_pass(self.dsn)
        since = self.log_mark()
        self.assertIsNone(self.daemon.poll(), self.output_tail())
        self.assertNotIn('msg="pass failed"', self._text_since(start))
        return since

    def test_turning_erasure_off_during_the_erase_step(self):
        base = {'policy.erase_after': '1 year', 'limits.batch_size': 2}
        self.setup_db(overrides=base)
        self.suspended_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('erased', 20)
        self.assertLess(self.count_events('erased'), POPULATION)
        mark = self.reload_with({'limits.batch_size': 2, 'policy.erase_after': ''})
        # The pass in flight ends, and the next one, without a crash.
        mark = self.next_passes(2, mark)
        # From then on nobody is erased: a subscriber due for erasure under
        # the old policy stays suspended.
        self.suspended_population(POPULATION + 1, 5)
        done = self.count_events('erased')
        self.next_passes(2, mark)
        self.assertEqual(self.count_events('erased'), done)
        self.assertEqual(self.one("SELECT count(*) FROM dormant.account WHERE state = 'suspended'"
                                  ' AND subscriber_id > %s', (POPULATION,)), 5)
        self.assertEqual(self.stop_daemon(), 0)

    def test_turning_the_never_active_rule_off_during_its_step(self):
        self.setup_db(overrides={'limits.batch_size': 2})
        self.never_active_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('requested', 20)
        self.assertLess(self.count_events('requested'), POPULATION)
        mark = self.reload_with({'limits.batch_size': 2, 'policy.never_active_after': ''})
        mark = self.next_passes(2, mark)
        self.never_active_population(POPULATION + 1, 5)
        self.q('UPDATE dormant.control SET rescan = true')
        self.next_passes(2, mark)
        self.assertEqual(self.one('SELECT count(*) FROM dormant.account'
                                  ' WHERE subscriber_id > %s', (POPULATION,)), 0)
        self.assertEqual(self.stop_daemon(), 0)

    def test_turning_reminders_off_during_the_remind_step(self):
        self.setup_db(overrides={'limits.batch_size': 2})
        self.reminder_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('reminded', 20)
        self.assertLess(self.count_events('reminded'), POPULATION)
        mark = self.reload_with({'limits.batch_size': 2, 'policy.reminders': []})
        self.next_passes(2, mark)
        self.assertEqual(self.stop_daemon(), 0)

    def test_a_reload_keeps_the_statements_of_the_pass_in_flight(self):
        """A batch size changed mid-step applies from the next pass: the
        pass in flight goes on two at a time."""
        self.setup_db(overrides={'policy.erase_after': '1 year', 'limits.batch_size': 2,
                                 'log.level': 'debug'})
        self.suspended_population(1, POPULATION)
        self.start_daemon()
        self.wait_events('erased', 20)
        mark = self.reload_with({'policy.erase_after': '1 year', 'limits.batch_size': 500,
                                 'log.level': 'debug'})
        self.wait_log(r'msg="pass done"', since=mark)
        text = self.log_text()
        tail = text[text.rfind('msg="configuration reloaded"'):]
        tail = tail[:tail.find('msg="pass done"')]
        batches = [int(x) for x in re.findall(r'msg="batch" step=erase moved=(\d+)', tail)]
        self.assertTrue(batches, 'no erase batch after the reload')
        self.assertLessEqual(max(batches), 2, batches)
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
