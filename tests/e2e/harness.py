"""Process-level test harness: drive the real dormantd and dormantctl.

Tests speak to the daemon only as an operator would: a configuration file,
signals, dormantctl, HTTP, the database and the logs. Each test gets its own
temporary directory and databases; everything it starts is killed and
everything it creates is dropped when it ends, pass or fail.

Usage (tests/e2e/test_something.py):

    import harness

    class Something(harness.DaemonTestCase):
        def test_it(self):
            dsn = self.fresh_db()
            self.make_subscribers_table(dsn)
            conf = self.write_config({'log.level': 'debug'}, dsn=dsn)
            rc, out, err = self.ctl('migrate')
            self.assertEqual(rc, 0, err)
            self.start_daemon(conf)
            self.wait_log(r'msg="pass done"')
            self.stop_daemon()

    if __name__ == '__main__':
        harness.main()

Environment: DORMANTD, DORMANTCTL (the built binaries; ctest sets them),
DM_SOURCE_DIR, and PGHOST/PGPORT/PGUSER of the server scripts/test starts
(tests skip when PGHOST is unset), DM_PG_BIN/DM_PG_DATA to stop and start
that server. DM_KEEP_TMP=1 keeps each test's directory for inspection.
"""

import base64
import copy
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # reported by DaemonTestCase.setUp
    psycopg2 = None

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('DM_SOURCE_DIR') or os.path.dirname(os.path.dirname(HERE))
DORMANTD = os.environ.get('DORMANTD') or os.path.join(SOURCE_DIR, 'build', 'dormantd')
DORMANTCTL = os.environ.get('DORMANTCTL') or os.path.join(SOURCE_DIR, 'build', 'dormantctl')

_db_counter = itertools.count()


# Exit status of a test file none of whose tests ran: ctest reports it as
# "Skipped" (SKIP_RETURN_CODE in CMakeLists.txt), not as passed.
SKIPPED_EXIT = 77


def main():
    """Run the calling module's tests; exit non-zero unless all passed.

    Every skipped test prints one line "SKIPPED: <test>: <what is missing>"
    (scripts/test collects them); when nothing ran at all the exit status is
    SKIPPED_EXIT."""
    prog = unittest.main(module='__main__', exit=False, verbosity=2)
    result = prog.result
    for test, reason in result.skipped:
        reason = re.sub(r'^SKIPPED:\s*', '', str(reason))
        print('SKIPPED: %s: %s' % (test.id(), reason), flush=True)
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped and result.testsRun <= len(result.skipped):
        sys.exit(SKIPPED_EXIT)
    sys.exit(0)


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def have_pg():
    """True when a test PostgreSQL is configured (PGHOST set)."""
    return bool(os.environ.get('PGHOST'))


def admin_dsn(dbname='postgres'):
    """DSN of database dbname on the test server, from the PG* variables."""
    return psycopg2.extensions.make_dsn(
        host=os.environ.get('PGHOST'),
        port=os.environ.get('PGPORT') or None,
        user=os.environ.get('PGUSER') or 'postgres',
        dbname=dbname)


def psql(dsn, sql, params=None):
    """Run one statement in autocommit mode; return all rows (a list of tuples)
    when it produces rows, else None."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description is not None else None
    finally:
        conn.close()


def scalar(dsn, sql, params=None):
    """First column of the first row, or None when there is no row."""
    rows = psql(dsn, sql, params)
    return rows[0][0] if rows else None


def deadline_shown(iso, zone='UTC'):
    """The moment a message shows for the deadline iso (payload form,
    "2026-12-29T23:00:00Z") in zone: the last moment inside it, as
    lib/localdate.c states it (DESIGN.md promise 3). A deadline at a
    midnight of the zone is the end of the day before, shown with its last
    minute; any other is shown to its last second. A datetime in zone."""
    import datetime
    import zoneinfo
    at = datetime.datetime.fromisoformat(iso.replace('Z', '+00:00')).astimezone(
        zoneinfo.ZoneInfo(zone))
    if (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0):
        return at - datetime.timedelta(minutes=1)
    return at - datetime.timedelta(seconds=1)


class Repeater:
    """A thread that runs one statement every `every` seconds, in autocommit,
    until stopped: a service's activity feed, an application's mailer."""

    def __init__(self, dsn, sql, params=None, every=0.2):
        self.dsn, self.sql, self.params, self.every = dsn, sql, params, every
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        try:
            while not self.stop_event.is_set():
                try:
                    with conn.cursor() as cur:
                        cur.execute(self.sql, self.params)
                except psycopg2.Error:  # an outage test stopped the server
                    conn.close()
                    self.stop_event.wait(self.every)
                    try:
                        conn = psycopg2.connect(self.dsn)
                        conn.autocommit = True
                    except psycopg2.Error:
                        pass
                    continue
                self.stop_event.wait(self.every)
        finally:
            conn.close()

    def stop(self):
        self.stop_event.set()
        self.thread.join(10)


# A key of each supported type for the live feed's watcher row.
FEED_IDS = {'bigint': 2000000000, 'integer': 2000000000, 'text': 'zz-live-feed',
            'uuid': 'ffffffff-ffff-4fff-bfff-ffffffffffff'}


# The configuration of DESIGN.md section 5, with values that suit tests: fast
# polling, and the two data-quality guards opened wide so lifecycle tests are
# not blocked by them (guard tests set limits.max_activity_lag and
# limits.max_backlog_fraction explicitly). Filled in by write_config().
BASE_CONFIG = {
    'database': {'conninfo': None, 'schema': 'dormant'},
    'source': {
        'table': 'public.subscribers',
        'id': 'id',
        'email': 'email',
        'created_at': 'created_at',
        'last_activity_at': 'last_activity_at',
        'locale': 'locale',
        'eligible': '',
        'billing': {'column': 'billing_status', 'active': 'active', 'suspended': 'suspended'},
    },
    'policy': {
        'inactive_after': '2 years',
        'never_active_after': '1 year',
        'min_account_age': '30 days',
        'confirm_within': '30 days',
        'reminders': ['7 days', '1 day'],
        'erase_after': '',
        'erase_columns': ['email'],
    },
    'limits': {
        'poll_interval': '1 second',
        'batch_size': 1000,
        'max_requests_per_day': 100000,
        'max_activity_lag': '100 years',
        'max_backlog_fraction': 1.0,
    },
    'http': {'listen': None, 'public_url': None},
    'webhook': {
        'url': '',
        'secret_file': 'webhook.secret',
        'timeout': '15 seconds',
        'concurrency': 16,
        'retry': ['1 second', '2 seconds', '4 seconds'],
    },
    'email': {
        'smtp_url': '',
        'from': 'Example <no-reply@example.com>',
        'username': '',
        'password_file': '',
        'starttls': 'required',
        'templates': os.path.join(SOURCE_DIR, 'etc', 'templates'),
        'retry': ['1 second', '2 seconds', '4 seconds'],
    },
    'log': {'level': 'info', 'destination': None, 'format': 'logfmt'},
    'dry_run': False,
}


def config_string(s):
    """A libconfig string literal: double quotes, backslash escapes."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append('\\' + ch)
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\r':
            out.append('\\r')
        elif ord(ch) < 0x20:
            out.append('\\x%02x' % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def config_value(v, indent=''):
    """Render a Python value as libconfig: str, int, float, bool, list
    (an array, [ ... ]), dict (a group, { ... }) or a Raw text."""
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v) + ('L' if not -2**31 <= v < 2**31 else '')
    if isinstance(v, float):
        return repr(v) if ('.' in repr(v) or 'e' in repr(v)) else repr(v) + '.0'
    if isinstance(v, str):
        return config_string(v)
    if isinstance(v, (list, tuple)):
        return '[ ' + ', '.join(config_value(x) for x in v) + ' ]'
    if isinstance(v, dict):
        inner = indent + '  '
        lines = ['{']
        for k, x in v.items():
            lines.append('%s%s = %s;' % (inner, k, config_value(x, inner)))
        lines.append(indent + '}')
        return '\n'.join(lines)
    raise TypeError('cannot render %r as libconfig' % (v,))


class Raw:
    """A value written verbatim into the configuration (for invalid-syntax tests)."""

    def __init__(self, text):
        self.text = text


def render_config(cfg):
    """The whole file: one top-level setting per line or group."""
    return ''.join('%s = %s;\n' % (k, config_value(v)) for k, v in cfg.items())


def apply_override(cfg, dotted, value):
    """Set cfg['a']['b'] for 'a.b'; a value of None removes the key."""
    parts = dotted.split('.')
    node = cfg
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


class DaemonTestCase(unittest.TestCase):
    """Base class: per-test temp dir, databases, daemon processes, cleanup."""

    # Seconds; generous because CI machines are slow and sanitizers slower.
    TIMEOUT = 60

    def setUp(self):
        if psycopg2 is None:
            self.fail('python3-psycopg2 is not installed')
        if not have_pg():
            self.skipTest('PGHOST is not set (run through scripts/test)')
        self.tmp = tempfile.mkdtemp(prefix='dormant-e2e.')
        self.procs = []         # every process started, for cleanup
        self.dbs = []           # every database created, for cleanup
        self.daemon = None      # the last daemon started
        self.config = None      # path of the last configuration written
        self.log_path = os.path.join(self.tmp, 'dormantd.log')
        self.http_port = None
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for name in self.dbs:
            try:
                psql(admin_dsn(), 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
            except psycopg2.Error as e:  # the server may be down after an outage test
                print('cleanup: cannot drop %s: %s' % (name, e), file=sys.stderr)
        if os.environ.get('DM_KEEP_TMP'):
            print('kept %s' % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- database ---------------------------------------------------------

    def fresh_db(self, prefix='e2e'):
        """Create a uniquely named empty database; return its DSN. Dropped at cleanup."""
        prefix = re.sub(r'[^a-z0-9_]', '_', prefix.lower())[:30]
        name = '%s_%d_%d_%s' % (prefix, os.getpid(), next(_db_counter), secrets.token_hex(3))
        psql(admin_dsn(), 'CREATE DATABASE "%s"' % name)
        self.dbs.append(name)
        return admin_dsn(name)

    def psql(self, dsn, sql, params=None):
        """Run one statement (autocommit); rows as a list of tuples, or None."""
        return psql(dsn, sql, params)

    def scalar(self, dsn, sql, params=None):
        """First column of the first row, or None."""
        return scalar(dsn, sql, params)

    def make_subscribers_table(self, dsn, id_type='bigint', table='public.subscribers'):
        """Create the operator's table the base configuration points at."""
        psql(dsn, '''CREATE TABLE %s (
            id %s PRIMARY KEY,
            email text,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_activity_at timestamptz,
            locale text,
            billing_status text NOT NULL DEFAULT 'active')''' % (table, id_type))

    def add_subscribers(self, dsn, ids, created_ago='3 years', active_ago='3 years',
                        billing='active', locale='en', table='public.subscribers'):
        """Insert subscribers with email user<id>@example.com, created and last
        active the given intervals before the database's now() (active_ago
        None: never active)."""
        for i in ids:
            psql(dsn, 'INSERT INTO ' + table + ' (id, email, created_at, last_activity_at,'
                 ' locale, billing_status) VALUES (%s, %s, now() - %s::interval,'
                 ' now() - %s::interval, %s, %s)',
                 (i, 'user%s@example.com' % i, created_ago, active_ago, locale, billing))

    def start_feed(self, dsn, table='public.subscribers', every=0.2):
        """Keep the activity feed live, as a real service's is: promise 1
        holds every suspension back until the newest last_activity_at is at
        or after the deadline. Adds a watcher row (active billing, activity
        now, so never asked) whose activity a thread moves to now() every
        `every` seconds until the test ends. Returns the watcher's id."""
        id_type = scalar(dsn, "SELECT format_type(atttypid, NULL) FROM pg_attribute"
                              " WHERE attrelid = %s::regclass AND attname = 'id'", (table,))
        wid = FEED_IDS[id_type]
        psql(dsn, 'INSERT INTO ' + table + ' (id, email, created_at, last_activity_at, locale,'
             " billing_status) VALUES (%s, NULL, now() - interval '5 years', now(), 'en',"
             " 'active')", (wid,))
        feed = Repeater(dsn, 'UPDATE ' + table + ' SET last_activity_at = now() WHERE id = %s',
                        (wid,), every)
        self.addCleanup(feed.stop)
        return wid

    def wait_feed_caught_up(self, dsn, table='public.subscribers'):
        """Wait until the live feed has reached every pending deadline, so
        that a pass run now may suspend (with start_feed, within a moment)."""
        self.wait_for(lambda: scalar(
            dsn, 'SELECT coalesce((SELECT max(last_activity_at) FROM ' + table + ')'
                 " >= (SELECT max(deadline) FROM dormant.account WHERE state = 'pending'),"
                 ' true)'), what='the activity feed to reach the deadlines')

    def pg_stop(self):
        """Stop the test PostgreSQL (fast shutdown) to simulate an outage."""
        self._pg_ctl('stop', '-m', 'fast')

    def pg_start(self):
        """Start the test PostgreSQL again after pg_stop()."""
        self._pg_ctl('start', '-l', os.path.join(os.path.dirname(self._pg_data()), 'server.log'))

    def _pg_data(self):
        data = os.environ.get('DM_PG_DATA')
        if not data:
            self.skipTest('DM_PG_DATA is not set: cannot stop/start the server')
        return data

    def _pg_ctl(self, *args):
        pg_ctl = os.path.join(os.environ.get('DM_PG_BIN', '/usr/lib/postgresql/15/bin'), 'pg_ctl')
        cmd = [pg_ctl, '-D', self._pg_data(), '-w', '-t', '60'] + list(args)
        if os.geteuid() == 0:
            cmd = ['runuser', '-u', 'postgres', '--'] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    # -- configuration ----------------------------------------------------

    def write_config(self, overrides=None, dsn=None, name='dormant.conf', **kw):
        """Write a configuration file into the test's directory; return its path.

        overrides maps dotted keys to values ({'log.level': 'debug',
        'policy.reminders': ['1 second']}; None removes a key); keyword
        arguments do the same with '__' for the dot (log__level='debug').
        dsn defaults to the last fresh_db(). http.listen gets a free port
        (self.http_port, self.http_url), log.destination the file
        self.log_path, webhook.secret_file a valid whsec_ secret.
        """
        cfg = copy.deepcopy(BASE_CONFIG)
        if dsn is None and self.dbs:
            dsn = admin_dsn(self.dbs[-1])
        cfg['database']['conninfo'] = dsn or ''
        self.http_port = free_port()
        cfg['http']['listen'] = '127.0.0.1:%d' % self.http_port
        cfg['http']['public_url'] = self.http_url
        cfg['log']['destination'] = self.log_path
        secret = os.path.join(self.tmp, 'webhook.secret')
        if not os.path.exists(secret):
            with open(secret, 'w') as f:
                f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
        all_overrides = dict(overrides or {})
        all_overrides.update({k.replace('__', '.'): v for k, v in kw.items()})
        for key, value in all_overrides.items():
            apply_override(cfg, key, value)
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(render_config(cfg))
        self.config = path
        return path

    @property
    def http_url(self):
        """Base URL of the daemon's HTTP listener (from the last write_config)."""
        return 'http://127.0.0.1:%d' % self.http_port

    # -- processes --------------------------------------------------------

    def start_daemon(self, config=None, *args, env=None, wrapper=None):
        """Start $DORMANTD -c config [args]; stdout and stderr go to files in
        the test's directory. Returns the Popen, also kept as self.daemon.
        wrapper: a command that execs its arguments (unshare, env, ...)."""
        config = config or self.config
        n = len(self.procs)
        out = open(os.path.join(self.tmp, 'dormantd.%d.stdout' % n), 'wb')
        err = open(os.path.join(self.tmp, 'dormantd.%d.stderr' % n), 'wb')
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(list(wrapper or []) + [DORMANTD, '-c', config] + list(args),
                             stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL, env=full_env, start_new_session=True)
        out.close()
        err.close()
        p.stdout_path, p.stderr_path = out.name, err.name
        self.procs.append(p)
        self.daemon = p
        return p

    def stop_daemon(self, proc=None, sig=signal.SIGTERM, timeout=None):
        """Send sig (SIGTERM) and wait for the process to exit; return its
        exit status. Fails the test if it does not exit within timeout."""
        proc = proc or self.daemon
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout or self.TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('dormantd did not exit after %s\n%s' % (sig, self.output_tail()))

    def signal_daemon(self, sig, proc=None):
        """Send a signal to the daemon without waiting."""
        (proc or self.daemon).send_signal(sig)

    def wait_exit(self, proc=None, timeout=None):
        """Wait for the daemon to exit on its own (e.g. --once); return its status."""
        proc = proc or self.daemon
        try:
            return proc.wait(timeout or self.TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('dormantd did not exit\n%s' % self.output_tail())

    def ctl(self, *args, config=None, input=None, timeout=None, env=None):
        """Run $DORMANTCTL -c config args; return (rc, stdout, stderr) as text."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        r = subprocess.run([DORMANTCTL, '-c', config or self.config] + list(args),
                           input=input, capture_output=True, text=True, env=full_env,
                           timeout=timeout or self.TIMEOUT)
        return r.returncode, r.stdout, r.stderr

    # -- observing --------------------------------------------------------

    def _sources(self):
        paths = [self.log_path]
        for p in self.procs:
            paths += [p.stderr_path, p.stdout_path]
        return paths

    def log_text(self):
        """Everything logged so far: the log file, then every process's stderr/stdout."""
        chunks = []
        for path in self._sources():
            try:
                with open(path, 'r', errors='replace') as f:
                    chunks.append(f.read())
            except FileNotFoundError:
                pass
        return '\n'.join(chunks)

    def log_mark(self):
        """A position in the logs: wait_log(..., since=mark) ignores older lines."""
        return {path: os.path.getsize(path) if os.path.exists(path) else 0
                for path in self._sources()}

    def _text_since(self, mark):
        chunks = []
        for path in self._sources():
            try:
                with open(path, 'r', errors='replace') as f:
                    f.seek((mark or {}).get(path, 0))
                    chunks.append(f.read())
            except FileNotFoundError:
                pass
        return '\n'.join(chunks)

    def output_tail(self, lines=40):
        """The last lines of each log source, for failure messages."""
        parts = []
        for path in self._sources():
            try:
                with open(path, 'r', errors='replace') as f:
                    tail = f.read().splitlines()[-lines:]
            except FileNotFoundError:
                continue
            if tail:
                parts.append('--- %s\n%s' % (os.path.basename(path), '\n'.join(tail)))
        return '\n'.join(parts) or '(no output)'

    def wait_log(self, pattern, timeout=None, since=None):
        """Poll the log file and the daemons' stderr/stdout until regex pattern
        matches (after mark since, if given); return the match. Fails on
        timeout, or once every daemon has exited without printing it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        while True:
            running = any(p.poll() is None for p in self.procs)
            m = rx.search(self._text_since(since))
            if m:
                return m
            if self.procs and not running:
                self.fail('dormantd exited (%s) without logging /%s/\n%s'
                          % (self.procs[-1].returncode, pattern, self.output_tail()))
            if time.monotonic() > deadline:
                self.fail('timed out waiting for /%s/ in the logs\n%s'
                          % (pattern, self.output_tail()))
            time.sleep(0.05)

    def wait_for(self, predicate, timeout=None, interval=0.1, what='condition'):
        """Poll predicate() until it returns a true value, which is returned."""
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        while True:
            v = predicate()
            if v:
                return v
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s\n%s' % (what, self.output_tail()))
            time.sleep(interval)

    def http(self, path, method='GET', data=None, headers=None, timeout=10):
        """Request self.http_url + path; return (status, headers, body bytes)
        for any status, including 4xx and 5xx. data: bytes or a dict (form)."""
        if isinstance(data, dict):
            data = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.http_url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def wait_next_pass(self, dsn, timeout=None):
        """Wait for the next pass to be recorded in the control row (an idle
        pass logs "pass done" at debug only, so the log is no clock)."""
        before = scalar(dsn, 'SELECT last_pass_at FROM dormant.control')
        self.wait_for(lambda: scalar(dsn, 'SELECT last_pass_at FROM dormant.control') != before,
                      timeout=timeout, what='the next pass')

    def wait_http(self, path='/healthz', timeout=None):
        """Poll until the HTTP listener answers (any status); return it."""
        def answer():
            try:
                return self.http(path, timeout=2)
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                if self.daemon is not None and self.daemon.poll() is not None:
                    self.fail('dormantd exited (%s)\n%s'
                              % (self.daemon.returncode, self.output_tail()))
                return None
        return self.wait_for(answer, timeout, what='HTTP on %s' % self.http_url)
