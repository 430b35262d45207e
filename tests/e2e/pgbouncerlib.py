"""A private PgBouncer (Debian's pgbouncer) in front of the test PostgreSQL.

It listens on a free loopback port, runs as a non-root user (postgres when
the tests run as root: PgBouncer refuses root), trusts its one user and
forwards every database to the server of scripts/test (PGHOST/PGPORT).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import harness

PGBOUNCER = shutil.which('pgbouncer') or '/usr/sbin/pgbouncer'


def available():
    return os.access(PGBOUNCER, os.X_OK)


class PgBouncer:
    """Start with start(); stop() (or the test's cleanup) ends it."""

    def __init__(self, mode, pool_size, max_client_conn=200):
        self.mode = mode
        self.dir = tempfile.mkdtemp(prefix='dormant-pgb.')
        os.chmod(self.dir, 0o755)
        self.port = harness.free_port()
        self.user = os.environ.get('PGUSER') or 'postgres'
        self.proc = None
        self.log = os.path.join(self.dir, 'pgbouncer.log')
        with open(os.path.join(self.dir, 'userlist.txt'), 'w') as f:
            f.write('"%s" ""\n' % self.user)
        with open(os.path.join(self.dir, 'pgbouncer.ini'), 'w') as f:
            f.write('''[databases]
* = host=%(pghost)s port=%(pgport)s user=%(user)s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %(port)d
unix_socket_dir =
auth_type = trust
auth_file = %(dir)s/userlist.txt
pool_mode = %(mode)s
default_pool_size = %(pool)d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = %(maxc)d
max_db_connections = %(pool)d
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
logfile = %(log)s
pidfile = %(dir)s/pgbouncer.pid
''' % {'pghost': os.environ['PGHOST'], 'pgport': os.environ.get('PGPORT', '5432'),
       'user': self.user, 'port': self.port, 'dir': self.dir, 'mode': mode,
       'pool': pool_size, 'maxc': max_client_conn, 'log': self.log})
        if os.geteuid() == 0:
            shutil.chown(self.dir, 'postgres', 'postgres')
            for name in os.listdir(self.dir):
                shutil.chown(os.path.join(self.dir, name), 'postgres', 'postgres')

    def start(self, timeout=15):
        cmd = [PGBOUNCER, os.path.join(self.dir, 'pgbouncer.ini')]
        if os.geteuid() == 0:
            cmd = ['runuser', '-u', 'postgres', '--'] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError('pgbouncer did not start:\n' + self.log_text()[-2000:])

    def dsn(self, direct_dsn):
        """direct_dsn's database, reached through this PgBouncer."""
        params = dict(p.split('=', 1) for p in direct_dsn.split())
        return 'host=127.0.0.1 port=%d dbname=%s user=%s' % (self.port, params['dbname'],
                                                             self.user)

    def log_text(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
