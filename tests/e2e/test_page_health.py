"""/healthz and /metrics: follow the database down and up; Prometheus format checked by promtool."""

import json
import os
import re
import shutil
import subprocess

import harness
import pagelib


class PageHealth(pagelib.PageTestCase):

    def db_name(self):
        return self.scalar(self.dsn, 'SELECT current_database()')

    def cut_database(self, name):
        """An outage of this test's database only (the server is shared with
        tests running in parallel): refuse new connections, end current ones."""
        admin = harness.admin_dsn()
        self.psql(admin, 'ALTER DATABASE "%s" ALLOW_CONNECTIONS false' % name)
        self.psql(admin, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity'
                  ' WHERE datname = %s AND pid <> pg_backend_pid()', (name,))

    def restore_database(self, name):
        self.psql(harness.admin_dsn(), 'ALTER DATABASE "%s" ALLOW_CONNECTIONS true' % name)

    def test_healthz_reports_db_paused_guards_last_pass(self):
        self.start()
        status, headers, body = self.http('/healthz')
        self.assertEqual(status, 200)
        self.assertEqual(headers['Content-Type'], 'application/json')
        doc = json.loads(body)
        self.assertEqual(doc['db'], 'up')
        self.assertIs(doc['paused'], False)
        self.assertIsInstance(doc['guards'], dict)
        self.assertIn('last_pass', doc)
        self.assertEqual(set(doc['last_pass']), {'at', 'duration_ms', 'outcome'})
        self.psql(self.dsn, "UPDATE dormant.control SET paused = true,"
                  " guards = '{\"stale_activity\": true}'")
        doc = json.loads(self.http('/healthz')[2])
        self.assertIs(doc['paused'], True)
        self.assertEqual(doc['guards'], {'stale_activity': True})
        self.assertEqual(self.http('/healthz', method='HEAD')[0], 200)

    def test_healthz_and_page_follow_the_database_down_and_up(self):
        self.start(subscribers=[1])
        token = self.pending_request(1)
        name = self.db_name()
        self.addCleanup(self.restore_database, name)
        self.cut_database(name)
        status, _, body = self.wait_for(
            lambda: (lambda r: r if r[0] == 503 else None)(self.http('/healthz')),
            what='/healthz 503')
        self.assertEqual(json.loads(body)['db'], 'down')
        # The page says "try again later", never "not found", while it cannot know.
        status, headers, body = self.http('/c/' + token)
        self.assertEqual(status, 503)
        self.assertIn('try again later', body.decode())
        self.assert_security_headers(headers, '503')
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 503)
        # /metrics still answers, and says the database is down.
        status, _, body = self.http('/metrics')
        self.assertEqual(status, 200)
        self.assertIn('dormant_database_up{connection="http"} 0', body.decode())
        self.restore_database(name)
        self.wait_for(lambda: self.http('/healthz')[0] == 200, what='/healthz 200 again')
        self.assertEqual(self.http('/c/' + token)[0], 200)
        self.assertEqual(self.post('/c/' + token, 'keep')[0], 200)
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account'), 'active')

    def test_healthz_is_503_when_the_schema_is_missing(self):
        self.start()
        self.psql(self.dsn, 'DROP SCHEMA dormant CASCADE')
        status, _, body = self.http('/healthz')
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body)['db'], 'error')

    def test_metrics_pass_promtool_and_count(self):
        promtool = shutil.which('promtool')
        self.assertIsNotNone(promtool, 'promtool missing: install the Debian package prometheus')
        self.start(subscribers=[1, 2, 3])
        t1 = self.pending_request(1)
        t2 = self.pending_request(2)
        self.pending_request(3)
        self.assertEqual(self.post('/c/' + t1, 'keep')[0], 200)
        self.assertEqual(self.post('/c/' + t2, 'pause')[0], 200)
        self.psql(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()'
                  ' WHERE subscriber_id = 1')
        status, headers, body = self.http('/metrics')
        self.assertEqual(status, 200)
        self.assertTrue(headers['Content-Type'].startswith('text/plain; version=0.0.4'))
        text = body.decode()
        r = subprocess.run([promtool, 'check', 'metrics'], input=body, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, b'')  # not even a lint warning

        def value(line):
            m = re.search('^' + re.escape(line) + r' (\S+)$', text, re.M)
            self.assertIsNotNone(m, line + '\n' + text)
            return float(m.group(1))
        self.assertEqual(value('dormant_transitions_total{kind="confirmed"}'), 1)
        self.assertEqual(value('dormant_transitions_total{kind="declined"}'), 1)
        self.assertEqual(value('dormant_accounts{state="active"}'), 1)
        self.assertEqual(value('dormant_accounts{state="suspended"}'), 1)
        self.assertEqual(value('dormant_accounts{state="pending"}'), 1)
        self.assertEqual(value('dormant_outbox_messages{state="delivered"}'), 1)
        self.assertEqual(value('dormant_outbox_messages{state="pending"}'), 1)
        self.assertEqual(value('dormant_database_up{connection="http"}'), 1)
        self.assertEqual(value('dormant_paused'), 0)
        self.assertIn('dormant_build_info{version="', text)
        for family in ('deliveries_total', 'guard_tripped', 'last_pass_duration_seconds'):
            self.assertIn('# TYPE dormant_' + family, text)
        # The cluster-wide pause shows.
        self.psql(self.dsn, 'UPDATE dormant.control SET paused = true')
        self.assertIn('\ndormant_paused 1\n', self.http('/metrics')[2].decode())


if __name__ == '__main__':
    harness.main()
