"""Promise 2, one clock (DESIGN.md section 1; issue 11 case 1): every
comparison is made on instants in UTC whatever the server's TimeZone;
`timestamp without time zone` columns are read in source.timezone, a
`date` column d means the start of d + 1 there; with a naive column and no
source.timezone, migrate, start and reload refuse. The server here runs
east of UTC (Asia/Tokyo, +9), for every session (ALTER DATABASE ... SET
TimeZone), as a server installed in Japan does."""

import json
import signal
import time

import harness
from feedlib import FeedTestCase, now_as, sample_ids

SERVER_TZ = 'Asia/Tokyo'


class NoSilentDefault(FeedTestCase):

    def test_naive_columns_need_source_timezone(self):
        for la_type, created_type, column in (('timestamp', 'timestamptz', 'last_activity_at'),
                                              ('date', 'timestamptz', 'last_activity_at'),
                                              ('timestamptz', 'timestamp', 'created_at')):
            with self.subTest(la_type=la_type, created_type=created_type):
                self.setup_typed(la_type=la_type, created_type=created_type,
                                 server_tz=SERVER_TZ, migrate=False)
                # migrate refuses, naming the column and the server's zone.
                rc, out, err = self.ctl('migrate')
                self.assertEqual(rc, 78, out + err)
                self.assertIn(column, err)
                self.assertIn(SERVER_TZ, err)
                self.assertIn('source.timezone', err)
                # With the zone given, migrate works.
                good = self.write_config({'source.timezone': 'UTC'}, dsn=self.dsn,
                                         name='good.conf')
                rc, out, err = self.ctl('migrate', config=good)
                self.assertEqual(rc, 0, err)
                # A daemon started without it refuses (configuration error).
                bad = self.write_config({}, dsn=self.dsn, name='bad.conf')
                p = self.start_daemon(bad, '--once')
                self.assertEqual(self.wait_exit(p), 78, self.output_tail())
                self.assertIn(column, self.log_text())
                # A running daemon keeps its configuration when a reload drops it.
                self.write_config({'source.timezone': 'UTC'}, dsn=self.dsn, name='live.conf')
                mark = self.log_mark()
                d = self.start_daemon()
                self.wait_log(r'msg="pass done"', since=mark)
                mark = self.log_mark()
                self.write_config({}, dsn=self.dsn, name='live.conf')
                self.signal_daemon(signal.SIGHUP)
                m = self.wait_log(r'configuration rejected.*', since=mark)
                self.assertIn(column, m.group(0))
                self.wait_next_pass(self.dsn)  # an idle pass logs at debug
                self.assertIsNone(d.poll())
                self.stop_daemon()


class RailsUtcWallClock(FeedTestCase):
    """Rails' default: `timestamp without time zone` columns holding UTC
    wall-clock times, source.timezone = "UTC"."""

    def run_case(self, id_type):
        self.setup_typed(id_type=id_type, la_type='timestamp', created_type='timestamp',
                         server_tz=SERVER_TZ,
                         overrides={'source.timezone': 'UTC',
                                    'policy.confirm_within': '3 seconds',
                                    'policy.reminders': []})
        a, b, w = sample_ids(id_type, 3)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'")
        # Inactive for 2 years less 3 hours: not due. Read as Tokyo time it
        # would look 2 years and 6 hours old.
        self.add([b], "now() - interval '4 years'",
                 "now() - interval '2 years' + interval '3 hours'")
        self.start_feed(w)
        rc, out, err = self.ctl('preview', '--json')
        self.assertEqual(rc, 0, err)
        preview = json.loads(out)
        previewed = sorted(s['subscriber_id'] for s in
                           preview['actions']['request']['subscribers'])
        self.assertEqual(previewed, [str(a)])
        self.once()
        self.assertEqual(self.pending(), [str(a)], 'the pass disagrees with the preview')
        # show prints the source's activity as the instant it is.
        rc, out, err = self.ctl('show', str(a), '--json')
        self.assertEqual(rc, 0, err)
        shown = json.loads(out)['source']['last_activity_at']
        real = self.one('''SELECT to_char(last_activity_at, 'YYYY-MM-DD"T"HH24:MI')'''
                        ' FROM subscribers WHERE id = %s', (a,))
        self.assertTrue(shown.startswith(real), (shown, real))
        self.assertTrue(shown.endswith(('Z', '+00:00')), shown)

        self.ack([a])
        time.sleep(1)
        # a watches two hours' worth of seconds after the request: the
        # application writes the UTC wall clock.
        self.q('UPDATE subscribers SET last_activity_at = ' + now_as('timestamp') +
               ' WHERE id = %s', (a,))
        time.sleep(3)
        self.once()
        self.assertEqual(self.state_of(a), 'active')
        self.assertIn('resumed', self.kinds_of(a))
        self.assertNotIn('suspended', self.kinds_of(a))
        self.assertEqual(self.billing_of(a), 'active')
        self.assertNotIn(str(b), [e[0] for e in self.events('requested')])

    def test_bigint(self):
        self.run_case('bigint')

    def test_uuid(self):
        self.run_case('uuid')


class DateColumn(FeedTestCase):
    """A daily import writes the date of the last activity; d means the
    start of d + 1 in source.timezone."""

    def run_case(self, id_type):
        self.setup_typed(id_type=id_type, la_type='date', server_tz=SERVER_TZ,
                         overrides={'source.timezone': 'Europe/Paris',
                                    'policy.confirm_within': '2 seconds',
                                    'policy.reminders': []})
        a, w = sample_ids(id_type, 2)
        self.add([a], "now() - interval '4 years'", "now() - interval '3 years'",
                 zone='Europe/Paris')
        self.start_feed(w, zone='Europe/Paris')
        self.once()
        self.assertEqual(self.pending(), [str(a)])
        self.ack([a])
        # The import writes today's date: a used the service today, after
        # the request.
        self.q('UPDATE subscribers SET last_activity_at = ' + now_as('date', 'Europe/Paris') +
               ' WHERE id = %s', (a,))
        time.sleep(2.5)
        self.once()
        self.assertEqual(self.state_of(a), 'active')
        self.assertIn('resumed', self.kinds_of(a))
        self.assertNotIn('suspended', self.kinds_of(a))
        self.assertEqual(self.billing_of(a), 'active')

    def test_text(self):
        self.run_case('text')

    def test_integer(self):
        self.run_case('integer')


if __name__ == '__main__':
    harness.main()
