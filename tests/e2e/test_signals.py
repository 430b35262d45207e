"""dormantd as a process: --check-config, signals, systemd notifications, journal priorities."""

import os
import signal
import socket
import subprocess
import time

import harness


class CheckConfig(harness.DaemonTestCase):
    """--check-config validates the file only and answers with the contract's exit codes."""

    def run_dormantd(self, *args):
        r = subprocess.run([harness.DORMANTD] + list(args), capture_output=True, text=True,
                           timeout=30)
        return r.returncode, r.stdout, r.stderr

    def test_valid_file_prints_ok_without_touching_the_database(self):
        # An unreachable database: --check-config must not try it.
        path = self.write_config(dsn='host=127.0.0.1 port=1 dbname=nowhere connect_timeout=1')
        rc, out, err = self.run_dormantd('--check-config', '-c', path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), '%s: ok' % path)

    def test_shipped_sample_is_valid(self):
        sample = os.path.join(harness.SOURCE_DIR, 'etc', 'dormant.conf')
        rc, out, err = self.run_dormantd('--check-config', '-c', sample)
        self.assertEqual(rc, 0, err)

    def test_broken_file_exits_78_with_file_and_line(self):
        path = self.write_config({'limits.batch_size': -3}, dsn='dbname=x')
        line = [i + 1 for i, l in enumerate(open(path)) if 'batch_size' in l][0]
        rc, out, err = self.run_dormantd('--check-config', '-c', path)
        self.assertEqual(rc, 78)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith('%s:%d: ' % (path, line)), err)
        self.assertIn('batch_size', err)

    def test_missing_file_exits_78(self):
        rc, out, err = self.run_dormantd('--check-config', '-c', os.path.join(self.tmp, 'nope'))
        self.assertEqual(rc, 78)
        self.assertIn('nope: cannot read', err)

    def test_usage_errors_exit_64(self):
        rc, _, err = self.run_dormantd('--no-such-flag')
        self.assertEqual(rc, 64)
        rc, _, err = self.run_dormantd('-c', self.write_config(dsn='dbname=x'), 'extra')
        self.assertEqual(rc, 64)
        self.assertIn('extra', err)

    def test_version_and_help(self):
        rc, out, _ = self.run_dormantd('--version')
        self.assertEqual(rc, 0)
        self.assertRegex(out, r'^dormantd \d+\.\d+\.\d+')
        rc, out, _ = self.run_dormantd('--help')
        self.assertEqual(rc, 0)
        self.assertIn('--check-config', out)


class Signals(harness.DaemonTestCase):
    """Signals are events in the loop and do what DESIGN §4 says."""

    def start(self, **overrides):
        dsn = self.fresh_db('signals')
        self.make_subscribers_table(dsn)
        self.write_config(overrides)
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        p = self.start_daemon()
        self.wait_log(r'msg="started"')
        return p

    def test_sigterm_stops_gracefully_with_status_0(self):
        p = self.start()
        self.assertEqual(self.stop_daemon(p), 0)
        self.assertRegex(self.log_text(), r'msg="stopping" signal=Terminated')
        self.assertRegex(self.log_text(), r'msg="stopped" exit_code=0')

    def test_sigint_stops_too(self):
        p = self.start()
        self.assertEqual(self.stop_daemon(p, sig=signal.SIGINT), 0)
        self.assertRegex(self.log_text(), r'msg="stopping" signal=Interrupt')

    def test_sighup_with_broken_file_keeps_old_configuration(self):
        p = self.start()
        good = open(self.config).read()
        port = self.http_port
        self.write_config({'log.level': 'debug', 'limits.poll_interval': 'soon',
                           'http.listen': '127.0.0.1:%d' % port},
                          name=os.path.basename(self.config))
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        m = self.wait_log(r'level=error msg="configuration rejected, keeping the previous one" '
                          r'error="([^"]*)"', since=mark)
        self.assertIn('poll_interval', m.group(1))
        self.assertIn(self.config, m.group(1))
        self.assertIsNone(p.poll(), 'dormantd must keep running')
        # The old level (info) is still in force: a reload's debug line does not show.
        with open(self.config, 'w') as f:
            f.write(good)
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded".*log_level=info', since=mark)
        time.sleep(0.2)
        self.assertNotIn('configuration in force', self.log_text())
        self.assertEqual(self.stop_daemon(p), 0)

    def test_sighup_changes_log_level(self):
        p = self.start()
        self.assertNotIn('level=debug', self.log_text())
        listen = '127.0.0.1:%d' % self.http_port
        self.write_config({'log.level': 'debug', 'http.listen': listen},
                          name=os.path.basename(self.config))
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        self.wait_log(r'msg="configuration reloaded".*log_level=debug', since=mark)
        self.wait_log(r'level=debug msg="configuration in force"', since=mark)
        # And back: debug lines stop.
        self.write_config({'log.level': 'warning', 'http.listen': listen},
                          name=os.path.basename(self.config))
        mark = self.log_mark()
        self.signal_daemon(signal.SIGHUP)
        time.sleep(0.5)
        self.signal_daemon(signal.SIGUSR1)   # logs at info: must not show at warning
        time.sleep(0.5)
        self.assertNotIn('paused by SIGUSR1', self._text_since(mark))
        self.assertEqual(self.stop_daemon(p), 0)

    def test_sighup_reopens_log_file(self):
        p = self.start()
        rotated = self.log_path + '.1'
        os.rename(self.log_path, rotated)
        self.signal_daemon(signal.SIGHUP)
        self.wait_for(lambda: os.path.exists(self.log_path), what='a new log file')
        self.wait_log(r'msg="configuration reloaded"')
        with open(self.log_path) as f:
            self.assertIn('configuration reloaded', f.read())
        with open(rotated) as f:
            self.assertIn('msg="started"', f.read())
        self.assertEqual(self.stop_daemon(p), 0)

    def test_usr1_pauses_and_usr2_resumes(self):
        p = self.start()
        mark = self.log_mark()
        self.signal_daemon(signal.SIGUSR1)
        self.wait_log(r'level=info msg="paused by SIGUSR1', since=mark)
        self.signal_daemon(signal.SIGUSR2)
        self.wait_log(r'level=info msg="resumed by SIGUSR2"', since=mark)
        self.assertIsNone(p.poll())
        self.assertEqual(self.stop_daemon(p), 0)

    def test_signals_sent_while_starting_are_held_not_fatal(self):
        # The model test found SIGUSR1 soon after start killing the daemon
        # (the default action, before the loop watched it). The webhook
        # secret is read from a FIFO, so the daemon is provably inside its
        # configuration load when the signals arrive.
        dsn = self.fresh_db('signals')
        self.make_subscribers_table(dsn)
        fifo = os.path.join(self.tmp, 'secret.fifo')
        secret = os.path.join(self.tmp, 'webhook.secret')
        self.write_config({'webhook.url': 'http://127.0.0.1:9/hook'})
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        self.write_config({'webhook.url': 'http://127.0.0.1:9/hook',
                           'webhook.secret_file': fifo})
        with open(secret) as f:
            whsec = f.read()
        for sig in (signal.SIGUSR1, signal.SIGHUP):
            os.mkfifo(fifo)
            mark = self.log_mark()
            p = self.start_daemon()
            try:
                with open(fifo, 'w') as w:  # returns once dormantd opened it
                    time.sleep(0.2)
                    p.send_signal(sig)
                    time.sleep(0.2)
                    w.write(whsec)
            except BrokenPipeError:
                self.fail('%s while starting killed dormantd (status %s)' % (sig.name, p.wait(5)))
            os.unlink(fifo)
            if sig == signal.SIGUSR1:
                self.wait_log(r'msg="paused by SIGUSR1', since=mark)
            else:
                self.wait_log(r'msg="started"', since=mark)
            time.sleep(0.3)
            self.assertIsNone(p.poll(), '%s while starting killed dormantd\n%s'
                              % (sig.name, self.output_tail()))
            self.assertEqual(self.stop_daemon(p), 0)

    def test_second_sigterm_during_slow_shutdown_exits_at_once(self):
        # Hold an exclusive lock on the source table so the pass's statement
        # hangs: a graceful stop then waits (up to 10 s) for it.
        dsn = self.fresh_db('signals')
        self.make_subscribers_table(dsn)
        self.add_subscribers(dsn, range(1, 51))
        self.write_config({'log.level': 'debug'})
        rc, out, err = self.ctl('migrate')
        self.assertEqual(rc, 0, err)
        import psycopg2
        locker = psycopg2.connect(dsn)
        self.addCleanup(locker.close)
        cur = locker.cursor()
        cur.execute('LOCK TABLE public.subscribers IN ACCESS EXCLUSIVE MODE')
        p = self.start_daemon()
        self.wait_log(r'msg="started"')
        # Wait until a dormant backend is blocked on that lock.
        self.wait_for(lambda: self.scalar(
            dsn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                 " AND application_name LIKE 'dormantd/%%'") > 0,
            what='the pass to block on the locked table')
        self.signal_daemon(signal.SIGTERM)
        self.wait_log(r'msg="stopping"')
        time.sleep(0.5)
        self.assertIsNone(p.poll(), 'the first SIGTERM waits for the statement in flight')
        t0 = time.monotonic()
        self.signal_daemon(signal.SIGTERM)
        rc = self.wait_exit(p, timeout=5)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertRegex(self.log_text(), r'msg="second stop signal: exiting now"')
        locker.rollback()


class Systemd(harness.DaemonTestCase):
    """sd_notify: READY, RELOADING with MONOTONIC_USEC, STOPPING, WATCHDOG; journal priorities."""

    def notify_socket(self):
        path = os.path.join(self.tmp, 'notify.sock')
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(0.2)
        self.addCleanup(s.close)
        return s, path

    def collect(self, sock, until, timeout=30):
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got.append(sock.recv(4096).decode())
            except socket.timeout:
                pass
            if any(until in m for m in got):
                return got
        self.fail('no %s in notifications %r\n%s' % (until, got, self.output_tail()))

    def test_notifications(self):
        dsn = self.fresh_db('notify')
        self.make_subscribers_table(dsn)
        self.write_config()
        self.assertEqual(self.ctl('migrate')[0], 0)
        sock, path = self.notify_socket()
        p = self.start_daemon(env={'NOTIFY_SOCKET': path, 'WATCHDOG_USEC': '400000'})
        got = self.collect(sock, 'READY=1')
        got += self.collect(sock, 'WATCHDOG=1')
        self.signal_daemon(signal.SIGHUP)
        msgs = self.collect(sock, 'RELOADING=1')
        reload_msg = [m for m in msgs if 'RELOADING=1' in m][0]
        self.assertRegex(reload_msg, r'MONOTONIC_USEC=\d+')
        self.collect(sock, 'READY=1')
        self.signal_daemon(signal.SIGTERM)
        self.collect(sock, 'STOPPING=1')
        self.assertEqual(self.wait_exit(p), 0)

    def test_journal_priority_prefix(self):
        dsn = self.fresh_db('journal')
        self.make_subscribers_table(dsn)
        self.write_config({'log.destination': 'stderr'})
        self.assertEqual(self.ctl('migrate')[0], 0)
        err_path = os.path.join(self.tmp, 'journal.stderr')
        with open(err_path, 'wb') as err:
            st = os.fstat(err.fileno())
            env = dict(os.environ, JOURNAL_STREAM='%d:%d' % (st.st_dev, st.st_ino))
            p = subprocess.Popen([harness.DORMANTD, '-c', self.config], stderr=err,
                                 stdout=subprocess.DEVNULL, env=env, start_new_session=True)
        self.procs.append(p)
        p.stderr_path = p.stdout_path = err_path
        self.wait_log(r'msg="started"')
        self.signal_daemon(signal.SIGUSR1, proc=p)
        self.wait_log(r'paused by SIGUSR1')
        self.assertEqual(self.stop_daemon(p), 0)
        lines = [l for l in open(err_path).read().splitlines() if l]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r'^<[3-7]>ts=')
        self.assertTrue(any(l.startswith('<6>') and 'msg="started"' in l for l in lines))


if __name__ == '__main__':
    harness.main()
