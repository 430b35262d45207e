"""Upgrades without downtime (DESIGN §6): migrations are expand/contract, so
a daemon of version N runs against schema N and N+1, and instances are
upgraded one at a time after `dormantctl migrate`.

The previous release (0.1.0, commit ab88c85) is built from `git archive`
into a temporary directory; its daemon then runs against the schema the new
dormantctl leaves, next to a new daemon on the same database, and the new
release takes over a database that the previous one created and used.

While no migration has been added since 0.1.0 both releases are at the same
schema version, and the test says so on a NOTE line: the new daemon then
also runs on the old schema, and the N+1 refusal of the new dormantctl is
checked once a migration exists."""

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

import enginelib
import harness

PREVIOUS = 'ab88c85'          # release 0.1.0
PREVIOUS_VERSION = '0.1.0'


def run(cmd, **kw):
    kw.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Previous:
    """The previous release, built once for the whole file."""
    dir = None
    error = None

    @classmethod
    def build(cls):
        if cls.dir or cls.error:
            return
        src = harness.SOURCE_DIR
        if shutil.which('git') is None:
            cls.error = 'git is not installed'
            return
        if run(['git', '-C', src, 'cat-file', '-e', PREVIOUS + '^{commit}']).returncode != 0:
            cls.error = ('commit %s (release %s) is not in this repository (a shallow clone?)'
                         % (PREVIOUS, PREVIOUS_VERSION))
            return
        tmp = tempfile.mkdtemp(prefix='dormant-prev.')
        tree = os.path.join(tmp, 'src')
        os.mkdir(tree)
        archive = os.path.join(tmp, 'previous.tar')
        for cmd in (['git', '-C', src, 'archive', '-o', archive, PREVIOUS],
                    ['tar', '-x', '-f', archive, '-C', tree]):
            r = run(cmd, timeout=120)
            if r.returncode != 0:
                raise AssertionError('%s failed: %s' % (' '.join(cmd), r.stderr))
        build = os.path.join(tmp, 'build')
        for cmd in (['cmake', '-S', tree, '-B', build, '-DDORMANT_TESTS=OFF'],
                    ['cmake', '--build', build, '-j2', '--target', 'dormantd', 'dormantctl']):
            r = run(cmd, timeout=900)
            if r.returncode != 0:
                raise AssertionError('building %s failed:\n%s%s'
                                     % (PREVIOUS, r.stdout[-3000:], r.stderr[-3000:]))
        cls.dir = tmp
        cls.tree = tree
        cls.dormantd = os.path.join(build, 'dormantd')
        cls.dormantctl = os.path.join(build, 'dormantctl')
        # The previous release's own test harness renders configurations
        # that release accepts (a newer harness may write keys it rejects).
        spec = importlib.util.spec_from_file_location(
            'previous_harness', os.path.join(tree, 'tests', 'e2e', 'harness.py'))
        cls.harness = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cls.harness)


class Upgrade(enginelib.EngineTestCase):

    @classmethod
    def setUpClass(cls):
        Previous.build()

    @classmethod
    def tearDownClass(cls):
        if Previous.dir and not os.environ.get('DM_KEEP_TMP'):
            shutil.rmtree(Previous.dir, ignore_errors=True)
            Previous.dir = None

    def setUp(self):
        super().setUp()
        if Previous.error:
            self.skipTest(Previous.error)

    # -- the two releases --------------------------------------------------

    def previous_config(self, name='previous.conf'):
        """A configuration of the previous release for self.dsn, with its own
        HTTP port; returns (path, port)."""
        ph = Previous.harness
        cfg = ph.copy.deepcopy(ph.BASE_CONFIG)
        cfg['database']['conninfo'] = self.dsn
        port = harness.free_port()
        cfg['http']['listen'] = '127.0.0.1:%d' % port
        cfg['http']['public_url'] = 'http://127.0.0.1:%d' % port
        cfg['log']['destination'] = self.log_path
        cfg['email']['templates'] = os.path.join(Previous.tree, 'etc', 'templates')
        cfg['webhook']['secret_file'] = os.path.join(self.tmp, 'webhook.secret')
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(ph.render_config(cfg))
        return path, port

    def previous_ctl(self, config, *args):
        r = run([Previous.dormantctl, '-c', config] + list(args), timeout=self.TIMEOUT)
        return r.returncode, r.stdout, r.stderr

    def start_previous(self, config, *args):
        """Start the previous release's dormantd (tracked like any daemon)."""
        saved = harness.DORMANTD
        try:
            harness.DORMANTD = Previous.dormantd
            return self.start_daemon(config, *args)
        finally:
            harness.DORMANTD = saved

    def once_with(self, start, config, what):
        p = start(config, '--once')
        rc = self.wait_exit(p)
        self.assertEqual(rc, 0, '%s --once exited %s\n%s' % (what, rc, self.output_tail()))

    def schema_version(self):
        return self.one('SELECT version FROM dormant.meta')

    def new_schema_version(self):
        """The version the new dormantctl migrates to, on a scratch database."""
        dsn = self.fresh_db('scratch')
        self.make_subscribers_table(dsn)
        conf = self.write_config(dsn=dsn, name='scratch.conf')
        rc, out, err = self.ctl('migrate', config=conf)
        self.assertEqual(rc, 0, err)
        return self.scalar(dsn, 'SELECT version FROM dormant.meta')

    def healthz(self, port):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/healthz' % port, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    def acknowledge_all(self):
        """The application's mailer acknowledges every message (outbox-only mode)."""
        self.q('UPDATE dormant.outbox SET delivered_at = now() WHERE delivered_at IS NULL')

    # -- the tests ---------------------------------------------------------

    def test_the_previous_release_is_what_we_think(self):
        r = run([Previous.dormantd, '--version'])
        self.assertIn(PREVIOUS_VERSION, r.stdout + r.stderr)

    def test_previous_daemon_runs_on_the_new_schema_beside_a_new_daemon(self):
        self.setup_db()                              # the new dormantctl migrates
        new_v = self.schema_version()
        self.add_subscribers(self.dsn, [1, 2, 3])                       # due
        self.add_subscribers(self.dsn, range(10, 20), active_ago='1 hour')
        previous_conf, previous_port = self.previous_config()

        # The previous daemon alone on the new schema: a whole pass.
        self.once_with(self.start_previous, previous_conf, 'previous dormantd')
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.assert_exactly_once('requested', [1, 2, 3], 'confirmation.requested')
        # The new schema's delivery trigger starts the grace period for it.
        self.acknowledge_all()
        self.assertEqual(self.one("SELECT count(*) FROM dormant.account"
                                  " WHERE state = 'pending' AND deadline IS NOT NULL"), 3)

        # A rolling upgrade: one instance of each release on one database.
        old = self.start_previous(previous_conf)
        self.wait_for(lambda: self.healthz(previous_port) == 200, what='previous /healthz 200')
        new = self.start_daemon(self.config)
        self.wait_http()
        self.wait_for(lambda: self.http('/healthz')[0] == 200, what='new /healthz 200')
        # Rows older than the watermarks: a rescan makes the leader see them.
        self.add_subscribers(self.dsn, [4, 5])
        rc, out, err = self.ctl('rescan')
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: self.pending() == ['1', '2', '3', '4', '5'],
                      what='4 and 5 requested by whichever instance leads')
        self.wait_for(lambda: self.one('SELECT count(*) FROM dormant.outbox'
                                       ' WHERE delivered_at IS NULL') == 2,
                      what='their requests in the outbox')
        self.assertEqual(self.healthz(previous_port), 200)
        self.assertEqual(self.http('/healthz')[0], 200)
        self.assertEqual(self.stop_daemon(old), 0)
        self.assertEqual(self.stop_daemon(new), 0)
        self.assert_exactly_once('requested', [1, 2, 3, 4, 5], 'confirmation.requested')
        self.assertEqual(self.schema_version(), new_v, 'nobody changed the schema')
        with open(self.log_path) as f:
            self.assertNotRegex(f.read(), r'level=(error|fatal)')

        # The previous dormantctl reads the new schema where the contract of
        # 0.1.0 allows: its check is exact, so only at its own version.
        rc, out, err = self.previous_ctl(previous_conf, 'status')
        if new_v == 1:
            self.assertEqual(rc, 0, err)
        else:
            self.assertEqual(rc, 78, err)
            print('NOTE: dormantctl %s refuses schema version %s (its check is exact);'
                  ' its daemon runs on it' % (PREVIOUS_VERSION, new_v), flush=True)

    def test_new_release_takes_over_the_previous_releases_database(self):
        self.dsn = self.fresh_db('upgrade')
        self.make_subscribers_table(self.dsn)
        self.add_subscribers(self.dsn, [1, 2, 3])
        self.add_subscribers(self.dsn, range(10, 20), active_ago='1 hour')
        previous_conf, _ = self.previous_config()
        rc, out, err = self.previous_ctl(previous_conf, 'migrate', '--create-indexes')
        self.assertEqual(rc, 0, err)
        old_v = self.schema_version()
        self.once_with(self.start_previous, previous_conf, 'previous dormantd')
        self.assertEqual(self.pending(), ['1', '2', '3'])
        self.acknowledge_all()
        deadlines = self.q('SELECT subscriber_id, deadline FROM dormant.account ORDER BY 1')

        new_v = self.new_schema_version()
        self.write_config(dsn=self.dsn)
        if new_v == old_v:
            print('NOTE: no migration since %s (schema version %s in both releases): the new'
                  ' daemon runs on the old schema; the N+1 case waits for a migration'
                  % (PREVIOUS_VERSION, old_v), flush=True)
            rc, out, err = self.ctl('status')
            self.assertEqual(rc, 0, err)
            self.once()
            self.assertEqual(self.pending(), ['1', '2', '3'])
        else:
            # The contract does not let release N+1 run on schema N: its
            # dormantctl refuses and says what to do.
            self.assertEqual(new_v, old_v + 1, 'one migration per release (expand/contract)')
            rc, out, err = self.ctl('status')
            self.assertEqual(rc, 78, out + err)
            self.assertIn('run dormantctl migrate', err)

        # Migrate in place: the previous daemon keeps working on the result,
        # then the new one takes over; nobody is asked twice, no deadline moves.
        rc, out, err = self.ctl('migrate', '--create-indexes')
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.schema_version(), new_v)
        self.once_with(self.start_previous, previous_conf, 'previous dormantd after migrate')
        self.once()
        self.add_subscribers(self.dsn, [4])
        rc, out, err = self.ctl('rescan')
        self.assertEqual(rc, 0, err)
        self.once()
        self.assertEqual(self.pending(), ['1', '2', '3', '4'])
        self.assert_exactly_once('requested', [1, 2, 3, 4], 'confirmation.requested')
        self.assertEqual(self.q('SELECT subscriber_id, deadline FROM dormant.account'
                                ' WHERE subscriber_id <> 4 ORDER BY 1'), deadlines)

    def test_dormantctl_accepts_its_schema_and_the_next_only(self):
        """lib/schema.c: version N and N+1 are accepted, N+2 and N-1 refused."""
        self.setup_db()
        v = self.schema_version()
        for version, rc_want, says in ((v + 1, 0, None),
                                       (v + 2, 78, 'newer than this dormant can use'),
                                       (v - 1, 78, 'run dormantctl migrate')):
            self.q('UPDATE dormant.meta SET version = %s', (version,))
            rc, out, err = self.ctl('status')
            self.assertEqual(rc, rc_want, 'schema version %s: %s' % (version, out + err))
            if says:
                self.assertIn(says, err)


if __name__ == '__main__':
    harness.main()
