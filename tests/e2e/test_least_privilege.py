#!/usr/bin/python3
"""The least-privilege setup the README documents works, and is tight.

The grants are taken verbatim from the README's two marked SQL blocks (only
the role and database names are made unique), so the documentation is what
is tested. A privileged role runs `dormantctl migrate`; dormantd then runs a
whole lifecycle (request, acknowledgement by the application's mailer,
suspension at the deadline, erasure) as a role that may only read the
source table and update its billing and erase columns, and the test checks
that this role can do nothing more.
"""

import os
import re
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import psycopg2  # noqa: E402
import psycopg2.extensions  # noqa: E402

README = os.path.join(harness.SOURCE_DIR, 'README.md')


def readme_blocks():
    """The SQL blocks that follow the README's least-privilege markers, by
    what the marker says they are for: before, after (migrate), mailer."""
    with open(README) as f:
        text = f.read()
    blocks = re.findall(r'<!-- least-privilege grants([^:]*):[^>]*-->\s*```sql\n(.*?)```', text,
                        re.S)
    found = {}
    for label, sql in blocks:
        key = ('after' if 'after migrate' in label else
               'mailer' if 'mailer' in label else 'before')
        found[key] = sql
    assert set(found) == {'before', 'after', 'mailer'}, 'README grant blocks: %s' % list(found)
    return found


class LeastPrivilege(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        tag = '%d_%s' % (os.getpid(), secrets.token_hex(3))
        self.owner, self.daemon_role = 'lp_owner_' + tag, 'lp_daemon_' + tag
        self.mailer = 'lp_mailer_' + tag
        self.addCleanup(self.drop_roles)
        self.dsn = self.fresh_db('lp')
        self.dbname = psycopg2.extensions.parse_dsn(self.dsn)['dbname']

    def drop_roles(self):
        for db in self.dbs:
            for role in (self.daemon_role, self.owner, self.mailer):
                try:
                    harness.psql(harness.admin_dsn(db), 'DROP OWNED BY "%s" CASCADE' % role)
                except psycopg2.Error:
                    pass
        for role in (self.mailer, self.daemon_role, self.owner):
            try:
                harness.psql(harness.admin_dsn(), 'DROP ROLE IF EXISTS "%s"' % role)
            except psycopg2.Error:
                pass

    def as_role(self, role):
        return psycopg2.extensions.make_dsn(self.dsn, user=role)

    def run_block(self, sql, role_dsn):
        sql = (sql.replace('dormant_owner', self.owner)
               .replace('dormant_daemon', self.daemon_role)
               .replace('app_mailer', self.mailer)
               .replace('DATABASE subscriptions', 'DATABASE "%s"' % self.dbname))
        conn = psycopg2.connect(role_dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def denied(self, role_dsn, sql):
        """True when the statement fails for lack of privilege."""
        try:
            harness.psql(role_dsn, sql)
        except psycopg2.errors.InsufficientPrivilege:
            return True
        return False

    def test_full_cycle_as_the_daemon_role(self):
        self.make_subscribers_table(self.dsn)
        self.psql(self.dsn, "ALTER TABLE subscribers ADD COLUMN plan text DEFAULT 'standard'")
        self.add_subscribers(self.dsn, [1, 2], active_ago='3 years')
        self.add_subscribers(self.dsn, [3], active_ago='1 hour')
        self.start_feed(self.dsn)
        blocks = readme_blocks()
        self.run_block(blocks['before'], self.dsn)

        policy = {'policy.confirm_within': '2 seconds', 'policy.reminders': [],
                  'policy.erase_after': '1 second', 'policy.erase_columns': ['email']}
        super_conf = self.write_config(policy, dsn=self.dsn, name='super.conf')
        owner_conf = self.write_config(policy, dsn=self.as_role(self.owner), name='owner.conf')
        rc, out, err = self.ctl('migrate', config=owner_conf)
        self.assertEqual(rc, 0, err)
        # Only the table's owner may index it: here, the superuser.
        rc, out, err = self.ctl('migrate', '--create-indexes', config=super_conf)
        self.assertEqual(rc, 0, err)
        self.assertIn('creating index', out)
        self.run_block(blocks['after'], self.as_role(self.owner))
        self.run_block(blocks['mailer'], self.dsn)

        daemon_dsn = self.as_role(self.daemon_role)
        conf = self.write_config(policy, dsn=daemon_dsn, name='daemon.conf')

        # The daemon role can do nothing beyond what it needs.
        self.assertTrue(self.denied(daemon_dsn, "UPDATE subscribers SET plan = 'x'"))
        self.assertTrue(self.denied(daemon_dsn, 'UPDATE subscribers SET created_at = now()'))
        self.assertTrue(self.denied(daemon_dsn, 'DELETE FROM subscribers'))
        self.assertTrue(self.denied(daemon_dsn, 'INSERT INTO subscribers (id) VALUES (99)'))
        self.assertTrue(self.denied(daemon_dsn, 'CREATE TABLE dormant.x (i int)'))
        self.assertTrue(self.denied(daemon_dsn, 'CREATE TABLE public.x (i int)'))
        self.assertTrue(self.denied(daemon_dsn, 'DROP TABLE dormant.event'))
        # And migrate needs more than it has.
        self.assertNotEqual(self.ctl('migrate', config=conf)[0], 0)

        # Request (outbox mode: no channel configured).
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0, self.output_tail())
        self.assertEqual(self.psql(self.dsn, "SELECT subscriber_id, state FROM dormant.account"
                                   " WHERE state = 'pending' ORDER BY 1"), [(1, 'pending'),
                                                                          (2, 'pending')])
        # The application's mailer, with its own grants, reads the messages and
        # acknowledges them; the grace period starts.
        mailer_dsn = self.as_role(self.mailer)
        self.assertEqual(len(self.psql(mailer_dsn, 'SELECT id, payload FROM dormant.outbox')), 2)
        self.assertTrue(self.denied(mailer_dsn, "UPDATE dormant.outbox SET payload = '{}'"))
        self.assertTrue(self.denied(mailer_dsn, "UPDATE dormant.account SET state = 'active'"))
        self.psql(mailer_dsn, "UPDATE dormant.outbox SET delivered_at = now()"
                  " WHERE type = 'confirmation.requested'")
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(deadline) FROM dormant.account'), 2)
        self.wait_for(lambda: self.scalar(self.dsn, "SELECT bool_and(deadline < now())"
                                          " FROM dormant.account WHERE state = 'pending'"),
                      what='the deadline')
        self.wait_feed_caught_up(self.dsn)
        # Suspension at the deadline, then erasure one second later.
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0, self.output_tail())
        self.assertEqual(self.psql(self.dsn, 'SELECT id, billing_status FROM subscribers'
                                   ' WHERE id < 100 ORDER BY id'),
                         [(1, 'suspended'), (2, 'suspended'), (3, 'active')])

        def erased():
            self.start_daemon(conf, '--once')
            self.assertEqual(self.wait_exit(), 0, self.output_tail())
            return self.scalar(self.dsn, "SELECT count(*) FROM dormant.account"
                               " WHERE state = 'erased'") == 2
        self.wait_for(erased, what='erasure', interval=0.5)
        self.assertEqual(self.psql(self.dsn, 'SELECT id, email IS NULL FROM subscribers'
                                   ' WHERE id < 100 ORDER BY id'),
                         [(1, True), (2, True), (3, False)])
        kinds = [k for (k,) in self.psql(self.dsn, 'SELECT kind FROM dormant.event'
                                         ' WHERE subscriber_id = 1 ORDER BY id')]
        self.assertEqual(kinds, ['requested', 'delivered', 'suspended', 'erased'])
        # Everyday dormantctl works as the same role.
        rc, out, err = self.ctl('status', config=conf)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.ctl('show', '1', config=conf)
        self.assertEqual(rc, 0, err)
        self.check_audit_trail(daemon_dsn, conf)

    def check_audit_trail(self, daemon_dsn, conf):
        """Events can be added and read, never changed or removed, by anyone;
        each names the database role that wrote it."""
        # Every event so far was written by the daemon's role, as the
        # database authenticated it, but the deliveries the application's
        # mailer acknowledged (promise 3: each delivery is an event), and
        # erasure emptied the details.
        self.assertEqual(self.psql(self.dsn, 'SELECT DISTINCT db_user FROM dormant.event'
                                   " WHERE kind <> 'delivered'"), [(self.daemon_role,)])
        self.assertEqual(self.psql(self.dsn, 'SELECT DISTINCT db_user FROM dormant.event'
                                   " WHERE kind = 'delivered'"), [(self.mailer,)])
        self.assertEqual(self.scalar(self.dsn, "SELECT count(*) FROM dormant.event"
                                     " WHERE subscriber_id = 1 AND detail <> '{}'"), 0)
        # What the role claims is not what is recorded.
        self.psql(daemon_dsn, "INSERT INTO dormant.event (kind, actor, db_user)"
                  " VALUES ('paused', 'operator:test', 'postgres')")
        self.assertEqual(self.scalar(self.dsn, 'SELECT db_user FROM dormant.event'
                                     ' ORDER BY id DESC LIMIT 1'), self.daemon_role)
        # The daemon's role: no grant to change or remove anything.
        for sql in ("UPDATE dormant.event SET actor = 'daemon'",
                    "UPDATE dormant.event SET kind = 'resumed'",
                    'DELETE FROM dormant.event', 'TRUNCATE dormant.event'):
            self.assertTrue(self.denied(daemon_dsn, sql), sql)
        # Not even through the column it may update, except to empty it.
        self.assertTrue(self.denied(daemon_dsn, "UPDATE dormant.event SET detail = '{\"x\": 1}'"))
        count = self.scalar(self.dsn, 'SELECT count(*) FROM dormant.event')
        # The owner (and a superuser) may do anything the grants allow, but
        # the trigger refuses them too.
        owner_dsn = self.as_role(self.owner)
        for dsn in (owner_dsn, self.dsn):
            for sql in ("UPDATE dormant.event SET actor = 'daemon'",
                        "UPDATE dormant.event SET at = at - interval '1 day'",
                        "UPDATE dormant.event SET db_user = 'someone', detail = '{}'",
                        'DELETE FROM dormant.event', 'TRUNCATE dormant.event'):
                self.assertTrue(self.denied(dsn, sql), sql)
        self.assertEqual(self.scalar(self.dsn, 'SELECT count(*) FROM dormant.event'), count)
        # An operator is named by the account dormantctl runs as, not by
        # $USER; the database role beside it.
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)
            os.chmod(conf, 0o644)
            r = subprocess.run(['runuser', '-u', 'nobody', '--', 'env', 'USER=mallory',
                                'LOGNAME=mallory', 'SUDO_USER=mallory', harness.DORMANTCTL,
                                '-c', conf, 'pause', '--reason', 'audit'],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.psql(self.dsn, 'SELECT actor, db_user FROM dormant.event'
                                       ' ORDER BY id DESC LIMIT 1'),
                             [('operator:nobody', self.daemon_role)])


if __name__ == '__main__':
    harness.main()
