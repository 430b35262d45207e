#!/usr/bin/python3
"""source.eligible and the column mapping are checked against the database
at start and on every reload, and the schema remembers which table and
columns it was migrated for.

A predicate that does not plan, or a source.table / column that is not the
one `dormantctl migrate` was run for, is a configuration error: dormantd
exits 78 at start; on SIGHUP the new file is rejected and the old one stays
in force (passes go on with it); dormantctl refuses with exit 78. The
message names both tables.
"""

import signal

import harness
from enginelib import EngineTestCase


class ConfigFit(EngineTestCase):

    def test_bad_eligible_at_start_exits_78(self):
        self.setup_db()
        self.write_config(dsn=self.dsn, source__eligible='s.no_such_column = 1')
        p = self.start_daemon()
        self.assertEqual(self.wait_exit(p), 78, self.output_tail())
        self.assertRegex(self.log_text(), r'configuration error.*source\.eligible does not plan')
        rc, _, err = self.ctl('status')
        self.assertEqual(rc, 78)
        self.assertIn('source.eligible does not plan', err)

    def test_bad_eligible_on_reload_keeps_the_old_configuration(self):
        self.setup_db()
        self.add_subscribers(self.dsn, [1])
        self.start_daemon()
        self.wait_for(lambda: self.pending() == ['1'], what='the first request')
        # A predicate that does not plan, and would keep everyone out.
        self.write_config(dsn=self.dsn, source__eligible='s.no_such_column = 1')
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'configuration rejected, keeping the previous one.*source\.eligible does'
                      r' not plan', since=mark)
        # The old configuration still runs passes: a new subscriber is asked.
        self.add_subscribers(self.dsn, [2])
        self.q('UPDATE dormant.control SET rescan = true')
        self.wait_for(lambda: self.pending() == ['1', '2'], what='a pass with the old configuration')
        self.assertNotRegex(self.log_text(), r'pass failed')
        # A good file is taken.
        self.write_config(dsn=self.dsn, source__eligible='s.id > 0')
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'configuration reloaded', since=mark)
        self.assertEqual(self.stop_daemon(), 0)

    def test_other_table_is_refused_naming_both(self):
        self.setup_db()
        self.make_subscribers_table(self.dsn, table='public.customers')
        self.add_subscribers(self.dsn, [1])
        self.add_subscribers(self.dsn, [1], table='public.customers')
        migrated = self.config
        self.write_config(dsn=self.dsn, source__table='customers', name='other.conf')
        p = self.start_daemon()
        self.assertEqual(self.wait_exit(p), 78, self.output_tail())
        text = self.log_text()
        self.assertIn('public.customers', text)
        self.assertIn('was migrated for public.subscribers', text)
        self.assertEqual(self.one('SELECT count(*) FROM dormant.account'), 0)
        rc, _, err = self.ctl('status')
        self.assertEqual(rc, 78)
        self.assertIn('public.subscribers', err)
        # Renamed columns too.
        self.psql(self.dsn, 'ALTER TABLE subscribers ADD COLUMN mail text')
        self.write_config(dsn=self.dsn, source__email='mail', name='columns.conf')
        rc, _, err = self.ctl('status')
        self.assertEqual(rc, 78)
        self.assertIn('"email": "email"', err)
        # On reload the old table stays in force.
        self.start_daemon(migrated)
        self.wait_for(lambda: self.pending() == ['1'], what='the first request')
        self.write_config(dsn=self.dsn, source__table='customers', name=migrated.split('/')[-1])
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'configuration rejected, keeping the previous one.*public\.customers',
                      since=mark)
        self.assertEqual(self.stop_daemon(), 0)
        # Migrating with the new file is the deliberate way to move.
        rc, out, err = self.ctl('migrate', config=migrated)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.ctl('status', config=migrated)[0], 0)


if __name__ == '__main__':
    harness.main()
