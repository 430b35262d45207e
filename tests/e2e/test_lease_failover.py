"""Failover to a promoted replica with the lease (DESIGN §6): a primary and a
streaming replica of its own, a multi-host conninfo with
target_session_attrs=read-write; the primary dies, the replica is promoted,
and the daemon follows without a restart: it keeps (or takes) the lease on
the new primary and goes on requesting."""

import os
import shutil
import subprocess
import tempfile

import harness
from enginelib import EngineTestCase

PG_BIN = os.environ.get('DM_PG_BIN', '/usr/lib/postgresql/15/bin')


class Failover(EngineTestCase):

    def as_postgres(self, *cmd, **kw):
        cmd = list(cmd)
        if os.geteuid() == 0:
            cmd = ['runuser', '-u', 'postgres', '--'] + cmd
        return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, **kw)

    def server_dir(self, name):
        """A directory for one server: its data and its socket."""
        d = tempfile.mkdtemp(prefix='dormant-fo.%s.' % name, dir='/tmp')
        os.chmod(d, 0o755)
        if os.geteuid() == 0:
            shutil.chown(d, 'postgres', 'postgres')
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def pg_ctl(self, data, *args):
        self.as_postgres(os.path.join(PG_BIN, 'pg_ctl'), '-D', data, '-w', '-t', '60', *args)

    def start(self, data, sock, port):
        self.pg_ctl(data, '-l', os.path.join(os.path.dirname(data), 'log'), '-o',
                    "-k %s -p %d -c listen_addresses=''" % (sock, port), 'start')
        self.addCleanup(lambda: subprocess.run(
            (['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else [])
            + [os.path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def test_the_lease_follows_a_promoted_replica(self):
        pdir, rdir = self.server_dir('primary'), self.server_dir('replica')
        pport, rport = harness.free_port(), harness.free_port()
        pdata, rdata = os.path.join(pdir, 'data'), os.path.join(rdir, 'data')
        self.as_postgres(os.path.join(PG_BIN, 'initdb'), '-D', pdata, '-A', 'trust', '-U',
                         'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8')
        with open(os.path.join(pdata, 'postgresql.conf'), 'a') as f:
            f.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n"
                    "unix_socket_permissions = 0777\n")
        self.start(pdata, pdir, pport)
        self.as_postgres(os.path.join(PG_BIN, 'pg_basebackup'), '-h', pdir, '-p', str(pport),
                         '-U', 'postgres', '-D', rdata, '-R', '-X', 'stream')
        self.start(rdata, rdir, rport)
        primary = 'host=%s port=%d user=postgres dbname=postgres' % (pdir, pport)
        self.dsn = primary
        self.make_subscribers_table(primary)
        multi = ('host=%s,%s port=%d,%d user=postgres dbname=postgres'
                 ' target_session_attrs=read-write connect_timeout=2' % (pdir, rdir, pport, rport))
        self.write_config({}, dsn=multi)
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        self.start_daemon()
        self.wait_log(r'msg="scanning leader')
        self.add_subscribers(primary, [1, 2])
        self.wait_for(lambda: len(self.pending()) == 2, what='requests on the primary')
        epoch = self.one('SELECT epoch FROM dormant.lease')
        # Let the replica catch up, then lose the primary and promote.
        self.wait_for(lambda: harness.scalar(
            'host=%s port=%d user=postgres dbname=postgres' % (rdir, rport),
            'SELECT count(*) FROM dormant.account') == 2, what='the replica to catch up')
        self.pg_ctl(pdata, '-m', 'immediate', 'stop')
        self.pg_ctl(rdata, 'promote')
        self.dsn = 'host=%s port=%d user=postgres dbname=postgres' % (rdir, rport)
        self.add_subscribers(self.dsn, [3])
        # Its activity is older than the watermark: a rescan makes it seen.
        rc, out, err = self.ctl('rescan')
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: len(self.pending()) == 3, timeout=60,
                      what='a request on the promoted replica')
        self.assertIn(self.one('SELECT epoch FROM dormant.lease'), (epoch, epoch + 1))
        rc, out, err = self.ctl('status', '--json')
        self.assertEqual(rc, 0, err)
        self.assertIn('"leader": true', out)
        self.assertEqual(self.stop_daemon(), 0)
        self.assert_exactly_once('requested', [1, 2, 3], 'confirmation.requested')


if __name__ == '__main__':
    harness.main()
