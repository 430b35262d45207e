#!/usr/bin/python3
"""A DNS server that never answers does not stall the daemon.

libpq resolves host names with getaddrinfo(), which blocks; dormantd looks
them up first with libevent's resolver and hands libpq the addresses. The
daemon runs in its own mount namespace (unshare -m) where /etc/resolv.conf
names a local UDP socket that reads nothing, so every lookup hangs, for
glibc and libevent alike. While the database's host name cannot be
resolved, the page still answers (503 from /healthz), SIGHUP still reloads,
and SIGTERM still stops the daemon at once. A second test gives the name an
/etc/hosts entry and a TCP path to the test server, and the daemon connects
through the address it looked up.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness

HANG_NS = '127.83.83.83'  # a loopback address of our own for the silent DNS server


def can_unshare():
    if os.geteuid() != 0 or shutil.which('unshare') is None:
        return False
    r = subprocess.run(['unshare', '-m', '--propagation', 'private', 'true'],
                       capture_output=True)
    return r.returncode == 0


class DnsTestCase(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        if not can_unshare():
            self.skipTest('needs root and unshare -m to give the daemon its own resolv.conf')
        # A DNS "server" that receives queries and never answers.
        self.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.silent.close)
        self.silent.bind((HANG_NS, 53))
        self.resolv = os.path.join(self.tmp, 'resolv.conf')
        with open(self.resolv, 'w') as f:
            f.write('nameserver %s\noptions timeout:30 attempts:5\n' % HANG_NS)
        self.hosts = os.path.join(self.tmp, 'hosts')
        with open(self.hosts, 'w') as f:
            f.write('127.0.0.1 localhost\n127.0.0.1 db.dormant-hosts.test\n')

    def start_in_namespace(self, config):
        """dormantd with our resolv.conf and hosts bind-mounted over the system's."""
        script = ('mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts'
                  ' && shift 2 && exec "$@"')
        return self.start_daemon(config, wrapper=[
            'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh',
            self.resolv, self.hosts])

    def timed_http(self, path='/healthz'):
        t = time.monotonic()
        status, _, _ = self.http(path, timeout=5)
        return status, time.monotonic() - t


class HangingResolver(DnsTestCase):

    def test_page_and_signals_answer_while_lookups_hang(self):
        self.fresh_db('dns')
        self.make_subscribers_table(harness.admin_dsn(self.dbs[-1]))
        cfg = self.write_config(dsn='host=db.dormant-hang.test port=5432 dbname=%s'
                                % self.dbs[-1], log__level='debug')
        started = time.monotonic()
        self.start_in_namespace(cfg)
        self.wait_http(timeout=10)
        self.assertLess(time.monotonic() - started, 10)
        # Through the connect timeout (10 s) and the first retries: every
        # request is answered, at once, with the database down.
        until = time.monotonic() + 13
        answered = 0
        while time.monotonic() < until:
            status, took = self.timed_http()
            self.assertEqual(status, 503)
            self.assertLess(took, 2.0, 'the page stalled for %.1f s' % took)
            answered += 1
            time.sleep(0.5)
        self.assertGreater(answered, 10)
        # The lookup is what hung, and the daemon said so.
        self.wait_log(r'host name lookup timed out', timeout=20)
        mark = self.log_mark()
        t = time.monotonic()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'configuration reloaded', since=mark, timeout=5)
        self.assertLess(time.monotonic() - t, 3)
        t = time.monotonic()
        self.stop_daemon(timeout=10)
        self.assertLess(time.monotonic() - t, 5)
        # And the queries did reach the silent server.
        self.silent.setblocking(False)
        got = b''
        try:
            while True:
                got += self.silent.recv(4096)
        except BlockingIOError:
            pass
        self.assertIn(b'dormant-hang', got.lower())


class Forwarder:
    """127.0.0.1:port -> the test server's Unix socket, for a TCP connection."""

    def __init__(self):
        self.path = os.path.join(os.environ['PGHOST'], '.s.PGSQL.%s' % os.environ['PGPORT'])
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            u.connect(self.path)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


class ResolvedName(DnsTestCase):

    def test_name_from_hosts_file_connects(self):
        fwd = Forwarder()
        self.addCleanup(fwd.close)
        self.fresh_db('dns')
        dsn = harness.admin_dsn(self.dbs[-1])
        self.make_subscribers_table(dsn)
        self.assertEqual(self.ctl('migrate', config=self.write_config(dsn=dsn))[0], 0)
        cfg = self.write_config(dsn='host=db.dormant-hosts.test port=%d dbname=%s user=%s'
                                % (fwd.port, self.dbs[-1], os.environ.get('PGUSER', 'postgres')))
        self.start_in_namespace(cfg)
        self.wait_http(timeout=10)

        def healthy():
            status, took = self.timed_http()
            return status == 200
        self.wait_for(healthy, timeout=20, what='/healthz 200 through db.dormant-hosts.test')
        self.stop_daemon(timeout=10)


if __name__ == '__main__':
    harness.main()
