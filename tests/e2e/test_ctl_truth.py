#!/usr/bin/python3
"""The operator's view tells the truth (issue 16): what preview, status,
/healthz and the logs show is what is true, on a fresh table and a real
PostgreSQL, with the real dormantctl and dormantd. One test per item of the
issue, numbered as there."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ISO_Z = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'


class CtlTruth(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.dsn = self.fresh_db('ctl_truth')
        self.make_subscribers_table(self.dsn)
        self.add_subscribers(self.dsn, [1, 2, 3, 4, 5], active_ago='3 years')  # inactive
        self.add_subscribers(self.dsn, [6, 7, 8, 9, 10, 11, 12], active_ago='1 day')  # active
        self.write_config()
        self.ok('migrate')

    def ok(self, *args, env=None):
        rc, out, err = self.ctl(*args, env=env)
        self.assertEqual(rc, 0, 'dormantctl %s: %s' % (' '.join(args), err))
        return out

    def once(self, *args):
        self.start_daemon(self.config, '--once', *args)
        self.assertEqual(self.wait_exit(), 0, self.output_tail())

    def preview_json(self, *args):
        return json.loads(self.ok('preview', '--json', *args))

    def make_suspensions_due(self):
        self.write_config({'policy.reminders': []})  # no reminder notice to wait for
        self.once()
        self.psql(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()')
        self.psql(self.dsn, "UPDATE dormant.account SET delivered_at = now() - interval '31 days',"
                  " requested_at = now() - interval '31 days',"
                  " deadline = now() - interval '1 minute' WHERE state = 'pending'")
        # The feed must reach past the deadlines (p11: the feed's horizon).
        self.psql(self.dsn, 'UPDATE subscribers SET last_activity_at = now() WHERE id > 5')

    # 1 ---------------------------------------------------------------------
    def test_01_limit_caps_every_action(self):
        self.make_suspensions_due()
        doc = self.preview_json('--limit', '1')
        self.assertEqual(doc['actions']['suspend']['total'], 5)
        for action, v in doc['actions'].items():
            self.assertLessEqual(len(v['subscribers']), 1, action)
        text = self.ok('preview', '--limit', '1')
        block = text.split('\nsuspend:')[1].split('\n')
        self.assertEqual(len([r for r in block[1:4] if re.match(r'  \d', r)]), 1, text)
        self.assertIn('first 1 shown', block[0])

    # 2 ---------------------------------------------------------------------
    def test_02_requested_24h_always_counted(self):
        self.once()
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                     " WHERE state = 'pending'"), 5)
        # Nothing waits any more: the count must still be true.
        self.assertEqual(self.preview_json()['guards']['requested_24h'], 5)
        self.assertIn('5 requested in the last 24 h', self.ok('preview'))
        status = json.loads(self.ok('status', '--json'))
        self.assertEqual(status['guards']['rate']['requested_24h'], 5)
        self.start_daemon()
        self.wait_http()
        body = self.http('/healthz')[2]
        self.assertEqual(json.loads(body)['guards']['rate']['requested_24h'], 5)

    # 3 ---------------------------------------------------------------------
    def test_03_accept_backlog_on_a_first_run(self):
        self.write_config({'limits.max_backlog_fraction': 0.1})
        doc = self.preview_json()
        self.assertTrue(doc['guards']['backlog_tripped'])
        self.assertRegex(self.ok('preview').splitlines()[-1], r'^next: dormantctl accept-backlog')
        out = self.ok('accept-backlog')
        self.assertIn('5', out)
        self.assertFalse(self.preview_json()['guards']['backlog_tripped'])
        self.once()
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                     " WHERE state = 'pending'"), 5)

    # 4 ---------------------------------------------------------------------
    def test_04_pause_reason_shown(self):
        self.ok('pause', '--reason', 'billing incident INC-42', env={'SUDO_USER': 'ana'})
        self.assertEqual(json.loads(self.ok('status', '--json'))['paused_reason'],
                         'billing incident INC-42')
        self.assertRegex(self.ok('status'), r'paused\s+YES, by operator:\S+ since ' + ISO_Z
                         + ': billing incident INC-42')
        # Kept with the flag, not found again in the event log.
        self.assertEqual(self.scalar(self.dsn, 'SELECT paused_reason FROM dormant.control'),
                         'billing incident INC-42')
        self.start_daemon()
        self.wait_http()
        health = json.loads(self.http('/healthz')[2])
        self.assertEqual(health['paused_reason'], 'billing incident INC-42')
        self.ok('resume')
        self.assertIsNone(self.scalar(self.dsn, 'SELECT paused_reason FROM dormant.control'))
        self.signal_daemon(__import__('signal').SIGUSR1)
        self.wait_log(r'paused by SIGUSR1')
        health = json.loads(self.http('/healthz')[2])
        self.assertTrue(health['paused'])
        self.assertEqual(health['paused_reason'], 'SIGUSR1 to this process')

    # 5 ---------------------------------------------------------------------
    def test_05_webhook_disabled_is_visible(self):
        import signal
        from webhook_sink import WebhookSink, read_whsec
        sink = WebhookSink(read_whsec(os.path.join(self.tmp, 'webhook.secret')))
        self.addCleanup(sink.close)
        sink.default = 410
        self.write_config({'webhook.url': sink.url})
        self.start_daemon()
        self.wait_log(r'webhook endpoint answered 410 Gone.*messages="wait undelivered')
        metrics = self.http('/metrics')[2].decode()
        self.assertIn('dormant_endpoint_disabled{channel="webhook"} 1\n', metrics)
        self.assertEqual(json.loads(self.http('/healthz')[2])['endpoints_disabled'], ['webhook'])
        sink.default = 200
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'webhook delivery enabled again', since=mark)
        metrics = self.http('/metrics')[2].decode()
        self.assertIn('dormant_endpoint_disabled{channel="webhook"} 0\n', metrics)
        self.assertEqual(json.loads(self.http('/healthz')[2])['endpoints_disabled'], [])

    # 6 ---------------------------------------------------------------------
    def test_06_durations_read_as_words(self):
        import signal
        from webhook_sink import WebhookSink, read_whsec
        sink = WebhookSink(read_whsec(os.path.join(self.tmp, 'webhook.secret')))
        self.addCleanup(sink.close)
        sink.default = 500
        self.write_config({'webhook.url': sink.url, 'log.level': 'debug',
                           'webhook.retry': ['5 minutes']})
        self.start_daemon()
        self.wait_log(r'msg="configuration in force"')
        self.wait_log(r'delivery failed, will retry')
        text = self.log_text()
        self.assertRegex(text, r'msg="configuration in force".* inactive_after="2 years"'
                         r' poll_interval="1 second"')
        self.assertRegex(text, r'delivery failed, will retry.* retry_in="5 minutes"')
        self.assertNotIn('microseconds', text)
        self.stop_daemon()

    def test_06_starttls_required_against_a_server_without_it(self):
        from smtp_server import SmtpServer
        smtp = SmtpServer(self.tmp)  # aiosmtpd without TLS: no STARTTLS offered
        self.addCleanup(smtp.stop)
        conf = self.write_config({'email.smtp_url': smtp.url, 'email.starttls': 'required'})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        self.assertIn('email.starttls is "required" but the SMTP server 127.0.0.1:%d does not'
                      ' offer STARTTLS' % smtp.port, r.stderr)
        self.start_daemon()  # five requests, all failing for the same cause
        self.wait_log(r'level=error msg="e-mail cannot be delivered: fix email.starttls')
        self.wait_log(r'Requested SSL level failed')
        time.sleep(4)  # the retries of all five, twice over
        self.stop_daemon()
        retries = [line for line in self.log_text().splitlines()
                   if 'cause="Requested SSL level failed"' in line]
        # One message stands for the five: not five lines a round.
        self.assertEqual({re.search(r'outbox_id=(\d+)', r).group(1) for r in retries}, {'1'},
                         '\n'.join(retries))
        self.assertNotIn('microseconds', retries[0])
        # "never" passes; an unreachable server is only a warning.
        conf = self.write_config({'email.smtp_url': smtp.url, 'email.starttls': 'never'})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = self.write_config({'email.smtp_url': 'smtp://127.0.0.1:%d' % harness.free_port()})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('warning: cannot reach the SMTP server', r.stderr)

    # 7 ---------------------------------------------------------------------
    def test_07_migrate_errors_name_the_role(self):
        import psycopg2
        import secrets
        dsn = self.fresh_db('ctl_truth_roles')
        self.make_subscribers_table(dsn)
        role = 'truth_daemon_%d_%s' % (os.getpid(), secrets.token_hex(3))

        def drop():
            harness.psql(dsn, 'DROP OWNED BY "%s" CASCADE' % role)
            harness.psql(harness.admin_dsn(), 'DROP ROLE IF EXISTS "%s"' % role)
        harness.psql(harness.admin_dsn(), 'CREATE ROLE "%s" LOGIN' % role)
        self.addCleanup(drop)
        harness.psql(dsn, 'GRANT USAGE ON SCHEMA public TO "%s"' % role)
        harness.psql(dsn, 'GRANT SELECT ON public.subscribers TO "%s"' % role)
        harness.psql(dsn, 'REVOKE CREATE ON DATABASE "%s" FROM PUBLIC'
                     % psycopg2.extensions.parse_dsn(dsn)['dbname'])
        conf = self.write_config(dsn=psycopg2.extensions.make_dsn(dsn, user=role),
                                 name='daemon.conf')
        rc, out, err = self.ctl('migrate', config=conf)
        self.assertNotEqual(rc, 0)
        self.assertIn('permission denied', err)
        self.assertIn('connected as %s' % role, err)
        self.assertIn('run migrate as the role that owns the schema', err)
        # As the schema's owner, indexes still need the table's owner.
        harness.psql(dsn, 'GRANT CREATE ON DATABASE "%s" TO "%s"'
                     % (psycopg2.extensions.parse_dsn(dsn)['dbname'], role))
        rc, out, err = self.ctl('migrate', '--create-indexes', config=conf)
        self.assertNotEqual(rc, 0)
        self.assertIn('must be owner', err)
        self.assertIn('--create-indexes needs the owner of public.subscribers (postgres)', err)

    # 8 ---------------------------------------------------------------------
    def test_08_accounts_say_what_they_count(self):
        text = self.ok('status')
        self.assertRegex(text, r'accounts \(only subscribers dormant has touched; the rest of'
                         r' public.subscribers is not counted\)')

    # 9 ---------------------------------------------------------------------
    def test_09_template_without_link_fails_check_config(self):
        import shutil
        dst = os.path.join(self.tmp, 'templates')
        shutil.copytree(os.path.join(harness.SOURCE_DIR, 'etc', 'templates'), dst)
        path = os.path.join(dst, 'en', 'confirmation.requested.txt')
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(text.replace('{{confirm_url}}', 'https://example.com/account'))
        conf = self.write_config({'email.templates': dst,
                                  'email.smtp_url': 'smtp://127.0.0.1:%d' % harness.free_port()})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        self.assertIn('en/confirmation.requested.txt', r.stderr)
        self.assertIn('{{confirm_url}}', r.stderr)

    def test_09_preview_warns_dead_on_arrival_and_null_eligibility(self):
        self.psql(self.dsn, 'ALTER TABLE subscribers ADD COLUMN tier text')
        self.psql(self.dsn, "UPDATE subscribers SET tier = 'gold' WHERE id <> 3")
        self.psql(self.dsn, 'UPDATE subscribers SET email = NULL WHERE id = 1')
        self.psql(self.dsn, "UPDATE subscribers SET email = 'nobody' WHERE id = 2")
        self.write_config({'source.eligible': "s.tier <> 'staff'"})
        doc = self.preview_json()
        self.assertEqual(doc['actions']['request']['total'], 4)  # 3 has a NULL tier
        warnings = doc['warnings']
        self.assertEqual({k: warnings[k] for k in ('dead_on_arrival', 'checked',
                                                   'eligible_null', 'held_by_feed')},
                         {'dead_on_arrival': 2, 'checked': 4, 'eligible_null': 1,
                          'held_by_feed': 0})
        text = self.ok('preview', '--limit', '1')
        self.assertIn('warning: 2 of the 4 requests checked would be dead on arrival', text)
        self.assertIn('warning: source.eligible is NULL (not false) for 1 rows', text)

    def test_09_null_eligibility_warned_by_check_config_and_at_start(self):
        self.psql(self.dsn, 'ALTER TABLE subscribers ADD COLUMN tier text')
        self.psql(self.dsn, "UPDATE subscribers SET tier = 'gold' WHERE id <> 3")
        conf = self.write_config({'source.eligible': "s.tier <> 'staff'",
                                  'email.smtp_url': 'smtp://127.0.0.1:%d' % harness.free_port()})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)  # a warning, not an error
        self.assertEqual(r.stdout.strip(), '%s: ok' % conf)
        self.assertIn('%s: warning: source.eligible is NULL (not false) for 1 of 12 source rows'
                      ' (NULL in tier): they are left out' % conf, r.stderr)
        self.assertIn('coalesce() or IS DISTINCT FROM', r.stderr)
        self.assertNotIn('@', r.stderr)  # counts and column names, never a row's value
        # At start, once the configuration fits the database: one line, and
        # the pass goes on (3 is left out, the four others are asked).
        self.once()
        warned = [line for line in self.log_text().splitlines()
                  if 'source.eligible is NULL' in line]
        self.assertEqual(len(warned), 1, warned)
        self.assertIn('level=warning', warned[0])
        self.assertRegex(warned[0], r'columns=tier rows=1 of=12 counted=all')
        self.assertNotIn('@', warned[0])
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                                     " WHERE state = 'pending'"), 4)
        # Written so that a NULL tier is eligible: nothing to say.
        conf = self.write_config({'source.eligible': "s.tier IS DISTINCT FROM 'staff'"})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, ''))
        # A predicate that fails on a row's value: said without the value.
        conf = self.write_config({'source.eligible': 's.email::integer > 0'})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('cannot look for NULLs in source.eligible: an error quoting a row', r.stderr)
        self.assertNotIn('@', r.stderr)
        # A database it cannot reach: said, and still only a warning.
        conf = self.write_config({'source.eligible': "s.tier <> 'staff'"},
                                 dsn='host=127.0.0.1 port=1 dbname=nowhere connect_timeout=1')
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('warning: cannot look for NULLs in source.eligible', r.stderr)

    def test_09_null_eligibility_on_a_large_table_is_sampled(self):
        # 300000 rows, a third with a NULL tier: the check reads a sample
        # of about 100000 rows, not the table, and says it estimated.
        self.psql(self.dsn, 'ALTER TABLE subscribers ADD COLUMN tier text')
        self.psql(self.dsn, "INSERT INTO subscribers (id, email, last_activity_at, tier)"
                  " SELECT g, NULL, now(), CASE WHEN g % 3 <> 0 THEN 'gold' END"
                  " FROM generate_series(100, 300099) g")
        self.psql(self.dsn, 'ANALYZE subscribers')
        conf = self.write_config({'source.eligible': "s.tier <> 'staff'"})
        r = subprocess.run([harness.DORMANTD, '-c', conf, '--check-config'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r'for about (\d+) of about (\d+) source rows \(NULL in tier\),'
                      r' estimated from a sample of (\d+):', r.stderr)
        self.assertIsNotNone(m, r.stderr)
        rows, of, sampled = (int(g) for g in m.groups())
        self.assertAlmostEqual(of, 300012, delta=15000)
        self.assertAlmostEqual(rows, 100012, delta=15000)
        self.assertLess(sampled, 200000)

    # 10 --------------------------------------------------------------------
    def test_10_one_time_format_and_null_not_minus_one(self):
        doc = self.preview_json()
        self.assertIsNone(doc['guards']['backlog_accepted'])
        self.assertRegex(doc['guards']['newest_activity'], '^' + ISO_Z + '$')
        for s in doc['actions']['request']['subscribers']:
            self.assertRegex(s['since'], '^' + ISO_Z + '$')
        text = self.ok('preview')
        self.assertNotRegex(text, r'\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d')
        self.assertRegex(text, ISO_Z)

    def test_10_idle_daemon_does_not_log_pass_done_every_poll(self):
        self.once()
        mark = self.log_mark()
        self.start_daemon()
        self.wait_http()
        for _ in range(4):
            self.wait_next_pass(self.dsn)
        self.ok('pause', '--reason', 'test')  # a change is news again
        self.wait_log(r'msg="pass done".*paused=true', since=mark)
        self.stop_daemon()
        lines = [line for line in self._text_since(mark).splitlines() if 'pass done' in line]
        self.assertEqual(len(lines), 2, '\n'.join(lines))

    # 11 --------------------------------------------------------------------
    def test_11_docs(self):
        for page in ('dormantctl.1', 'dormantd.8', 'dormant.conf.5'):
            r = subprocess.run(['groff', '-ww', '-man', '-Tutf8',
                                os.path.join(harness.SOURCE_DIR, 'doc', page)],
                               capture_output=True, text=True)
            self.assertEqual(r.stderr, '', page)
        r = subprocess.run(['groff', '-man', '-Tascii', '-P-cbou',
                            os.path.join(harness.SOURCE_DIR, 'doc', 'dormantctl.1')],
                           capture_output=True, text=True)
        self.assertRegex(r.stdout, r'\n\s+preview \[--limit N\] \[--json\]\n')
        with open(os.path.join(harness.SOURCE_DIR, 'doc', 'dormantd.8')) as f:
            d8 = f.read().replace('\\-', '-')
        with open(os.path.join(harness.SOURCE_DIR, 'README.md')) as f:
            readme = f.read()
        # Every statement of the README's two least-privilege blocks (the
        # ones test_least_privilege.py runs) is in dormantd(8).
        def statements(text):
            text = re.sub(r'--[^\n]*', '', text)
            return [' '.join(st.split()) for st in text.split(';') if st.strip()]
        blocks = re.findall(r'<!-- least-privilege grants(?: after migrate)?: [^>]*-->\n```sql\n'
                            r'(.*?)```', readme, re.S)
        self.assertEqual(len(blocks), 2)
        page = ' '.join(re.sub(r'--[^\n]*', '', d8).split())
        wanted = [st for b in blocks for st in statements(b)]
        self.assertIn('ALTER DEFAULT PRIVILEGES IN SCHEMA dormant GRANT USAGE ON SEQUENCES'
                      ' TO dormant_daemon', wanted)
        for st in wanted:
            self.assertIn(st, page, 'dormantd(8) LEAST PRIVILEGE lacks: ' + st)
        self.assertIn('never_active_after', d8)
        demo = os.path.join(harness.SOURCE_DIR, 'scripts', 'demo')
        r = subprocess.run([demo, '--help'], capture_output=True, text=True)
        for opt in re.findall(r'--[a-z-]+', r.stdout):
            if opt == '--help':
                continue
            self.assertIn(opt, open(demo).read().split('while (($#))')[1].split('done')[0],
                          'scripts/demo --help offers %s, which the script rejects' % opt)

    # forget (GDPR art. 17, DESIGN §3) ------------------------------------
    def test_forget_erases_now_and_is_never_asked_again(self):
        self.once()  # 1..5 pending, their requests in the outbox
        self.psql(self.dsn, 'UPDATE dormant.outbox SET delivered_at = now()'
                  ' WHERE subscriber_id = 1')
        self.psql(self.dsn, "INSERT INTO dormant.token (hash, subscriber_id, cycle)"
                  " VALUES ('\\x01', 1, 1)")
        rc, out, err = self.ctl('forget', '1')
        self.assertEqual(rc, 64, err)
        rc, out, err = self.ctl('forget', '999', '--reason', 'x')
        self.assertEqual(rc, 65, err)
        out = self.ok('forget', '1', '--reason', 'GDPR request, ticket 7', env={'SUDO_USER': 'ana'})
        self.assertIn('subscriber 1 forgotten', out)
        one = 'WHERE subscriber_id = 1'
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account ' + one),
                         'erased')
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.token ' + one), 0)
        self.assertEqual(self.psql(self.dsn, 'SELECT type FROM dormant.outbox ' + one
                                   + ' AND payload IS NOT NULL'), [('subscriber.erased',)])
        ev = self.psql(self.dsn, "SELECT kind, actor, detail, db_user FROM dormant.event " + one
                       + " ORDER BY id")
        self.assertEqual(ev[-1][0], 'forgotten')
        self.assertRegex(ev[-1][1], r'^operator:')
        self.assertEqual(ev[-1][2:], ({'reason': 'GDPR request, ticket 7'}, 'postgres'))
        self.assertTrue(all(d == {} for k, a, d, u in ev[:-1]), ev)
        self.assertEqual(self.psql(self.dsn, 'SELECT email, billing_status FROM subscribers'
                                   ' WHERE id = 1'), [(None, 'active')])
        # Others untouched.
        self.assertEqual(self.scalar(self.dsn, "SELECT state FROM dormant.account"
                                     " WHERE subscriber_id = 2"), 'pending')
        # Billing stays active: the sweep must not take them back, nor a pass ask them.
        self.write_config({'limits.sweep_period': '1 second'})
        for _ in range(2):
            self.once()
        self.assertEqual(self.scalar(self.dsn, 'SELECT state FROM dormant.account ' + one),
                         'erased')
        self.assertEqual(self.psql(self.dsn, "SELECT kind FROM dormant.event " + one
                                   + " AND id > (SELECT max(id) FROM dormant.event"
                                   " WHERE kind = 'forgotten')"), [])
        self.assertIn('forgotten', self.ok('show', '1'))
        # A request not delivered yet dies, superseded, as at erasure.
        self.ok('forget', '3', '--reason', 'ticket 8')
        self.assertEqual(self.psql(self.dsn, "SELECT type, dead_at IS NOT NULL, last_error"
                                   " FROM dormant.outbox WHERE subscriber_id = 3 ORDER BY id"),
                         [('confirmation.requested', True,
                           'superseded: the subscriber was forgotten'),
                          ('subscriber.erased', False, None)])

    # Beyond: status's first three lines say what is wrong and what to run.
    def test_status_first_three_lines(self):
        def head():
            return self.ok('status').splitlines()[:3]
        lines = head()
        self.assertEqual(lines[0], 'dormant: NOT STARTED')
        self.assertIn('systemctl start dormantd', lines[2])
        self.once()
        self.assertEqual(head()[0], 'dormant: OK')
        self.ok('pause', '--reason', 'INC-42')
        lines = head()
        self.assertEqual(lines[0], 'dormant: PAUSED')
        self.assertIn('INC-42', lines[1])
        self.assertIn('dormantctl resume', lines[2])
        self.ok('resume')
        self.psql(self.dsn, "UPDATE dormant.control SET guards ="
                  " '{\"backlog\": {\"tripped\": true, \"count\": 1234}}'")
        lines = head()
        self.assertEqual(self.ok('preview').splitlines()[-1],
                         'next: nothing: no one is due; dormantctl status shows the rest')
        self.assertEqual(head()[0], 'dormant: HELD')
        self.assertIn('1234', lines[1])
        self.assertIn('dormantctl accept-backlog', lines[2])


if __name__ == '__main__':
    harness.main()
