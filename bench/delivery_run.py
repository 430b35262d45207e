"""Driver of bench/delivery (run by it, not by hand): for each channel and
backlog, fills an outbox and times dormantd draining it into a local sink;
then times wrk on the HTTP sink, and records the rates side by side."""

import argparse
import base64
import datetime
import os
import re
import secrets
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'e2e'))
import harness  # noqa: E402  (configuration rendering and database helpers)

def sink_snapshot(pid, state):
    """Ask the sink for (count, first, last) since its last snapshot, and reset it."""
    before = os.path.getmtime(state) if os.path.exists(state) else 0
    os.kill(pid, signal.SIGUSR1)
    for _ in range(100):
        if os.path.exists(state) and os.path.getmtime(state) != before:
            break
        time.sleep(0.05)
    time.sleep(0.05)
    with open(state) as f:
        count, first, last = f.read().split()
    return int(count), float(first), float(last)


SCALE_HEADING = '## Delivery at two backlogs'
SCALE_INTRO = (
    'Produced by `bench/delivery` (the default run): for each channel, one\n'
    'fresh database per backlog (5,000 then 50,000 confirmation requests\n'
    'waiting in the outbox, each with its pending account), `dormantd`\n'
    'drains it into a local sink (webhook: `bench/delivery_sink.py`, 204;\n'
    'email: `bench/delivery_smtp.py`, aiosmtpd answering 250 and storing\n'
    'nothing), and the rate is N divided by the time from the daemon\'s start\n'
    'to the last row recorded delivered in the database (claimed, sent,\n'
    'acknowledged, the event written and the grace period started).\n'
    'flat = rate with the large backlog / rate with the small one (goal:\n'
    '>= 0.8). Then `wrk` with as many connections as `webhook.concurrency`\n'
    'POSTs the same signed request to the same HTTP sink for 10 s; of wrk =\n'
    'webhook rate with the large backlog / wrk (goal: >= 0.15).\n'
    'Everything (PostgreSQL, dormantd, sinks, wrk) shares one machine with the\n'
    'other engineers\' builds and tests, so rates move between runs.\n\n')
SCALE_HEAD = (
    '| date (UTC) | commit | cores | channel | concurrency | backlogs '
    '| deliveries/s (small) | deliveries/s (large) | flat | wrk requests/s | of wrk |\n'
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n')


def record_scale(path, rows):
    text = open(path).read() if os.path.exists(path) else '# Benchmark results\n'
    if SCALE_HEADING not in text:
        head = '# Benchmark results\n'
        rest = text[len(head):] if text.startswith(head) else text
        text = (head + '\n' + SCALE_HEADING + '\n\n' + SCALE_INTRO + SCALE_HEAD
                + '\n'.join(rows) + '\n' + rest)
    else:
        start = text.index(SCALE_HEADING)
        lines = text[start:].split('\n')
        i, seen_table = 0, False
        for i, line in enumerate(lines):
            if line.startswith('|'):
                seen_table = True
            elif seen_table:
                break
        else:
            i = len(lines)
        lines[i:i] = rows
        text = text[:start] + '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text)


def setup(a, n, channel, sink_port, smtp_port):
    """A fresh database whose outbox holds n requests; returns (dsn, conf)."""
    dsn_admin = harness.admin_dsn()
    harness.psql(dsn_admin, 'DROP DATABASE IF EXISTS bench_delivery')
    harness.psql(dsn_admin, 'CREATE DATABASE bench_delivery')
    dsn = harness.admin_dsn('bench_delivery')
    harness.psql(dsn, '''CREATE TABLE public.subscribers (
        id bigint PRIMARY KEY, email text, created_at timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz, locale text,
        billing_status text NOT NULL DEFAULT 'active')''')
    secret = os.path.join(a.work, 'webhook.secret')
    with open(secret, 'w') as f:
        f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
    cfg = harness.copy.deepcopy(harness.BASE_CONFIG)
    cfg['database']['conninfo'] = dsn
    cfg['http']['listen'] = '127.0.0.1:%d' % harness.free_port()
    cfg['http']['public_url'] = 'https://account.example.com/dormant'
    cfg['log']['destination'] = os.path.join(a.work, 'dormantd.log')
    # One lifecycle pass at the start, not one a second: the benchmark
    # measures delivery, and the machine is shared.
    cfg['limits']['poll_interval'] = '1 hour'
    cfg['log']['level'] = os.environ.get('DM_BENCH_LOG', 'warning')
    cfg['webhook'].update({'secret_file': secret, 'concurrency': a.concurrency,
                           'timeout': '15 seconds'})
    if channel == 'webhook':
        cfg['webhook']['url'] = 'http://127.0.0.1:%d/hook' % sink_port
    else:
        cfg['email'].update({'smtp_url': 'smtp://127.0.0.1:%d' % smtp_port,
                             'starttls': 'never'})
    conf = os.path.join(a.work, 'dormant.conf')
    with open(conf, 'w') as f:
        f.write(harness.render_config(cfg))
    subprocess.run([harness.DORMANTCTL, '-c', conf, 'migrate'], check=True,
                   stdout=subprocess.DEVNULL)
    harness.psql(dsn, '''
        INSERT INTO public.subscribers (id, email, created_at, last_activity_at)
        SELECT g, 'user' || g || '@example.com', now() - interval '4 years',
               now() - interval '3 years' FROM generate_series(1, %s) g''', (n,))
    harness.psql(dsn, '''
        INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at)
        SELECT g, 'pending', 1, 'inactive', now() FROM generate_series(1, %s) g''', (n,))
    harness.psql(dsn, '''
        INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
        SELECT 'confirmation.requested', g, 1, jsonb_build_object(
                 'type', 'confirmation.requested',
                 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object(
                    'subscriber_id', g::text, 'email', 'user' || g || '@example.com',
                    'locale', 'en', 'rule', 'inactive',
                    'confirm_url', 'https://account.example.com/dormant/c/tok' || g,
                    'last_activity_at', '2023-11-29T00:00:00Z'))
          FROM generate_series(1, %s) g''', (n,))
    harness.psql(dsn, '''UPDATE dormant.account a SET request_outbox_id = o.id
                           FROM dormant.outbox o WHERE o.subscriber_id = a.subscriber_id''')
    harness.psql(dsn, 'VACUUM ANALYZE dormant.outbox')
    harness.psql(dsn, 'VACUUM ANALYZE dormant.account')
    if os.environ.get('DM_BENCH_SLOWLOG'):
        harness.psql(dsn_admin, 'ALTER DATABASE bench_delivery SET log_min_duration_statement = %s'
                     % int(os.environ['DM_BENCH_SLOWLOG']))
    return dsn, conf


def slowlog_summary():
    """Statements over the threshold, by kind: count, total and mean ms."""
    subprocess.run(['sh', '-c', "grep -h 'duration:' $DM_PG_DIR/server.log | sed -E "
                    "'s/.*duration: ([0-9.]+) ms +(statement|execute [^:]*|parse [^:]*|bind [^:]*):"
                    " *(.{0,50}).*/\\1|\\3/' | awk -F'|' '{n[$2]++; t[$2]+=$1}"
                    " END {for (k in n) printf \"%6d %9.0f ms %6.1f ms  %s\\n\", n[k], t[k],"
                    " t[k]/n[k], k}' | sort -k2 -n -r | head -n 12; : > $DM_PG_DIR/server.log"])


def drain(a, n, channel, pid, state, sink_port, smtp_port):
    """Runs dormantd on n waiting messages until every one is delivered;
    returns (rate recorded in the database, rate seen at the sink, surplus)."""
    dsn, conf = setup(a, n, channel, sink_port, smtp_port)
    sink_snapshot(pid, state)  # start the sink's count from zero
    t0 = time.monotonic()
    daemon = subprocess.Popen([harness.DORMANTD, '-c', conf], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(a.work, 'dormantd.stderr'), 'wb'))
    try:
        while True:
            # The tally (what a scrape reads) costs the same at any size;
            # a scan of outbox_due would walk the dead entries of every
            # delivered row, and take its share of the machine.
            if not harness.scalar(dsn, "SELECT coalesce(sum(n), 0) FROM dormant.tally"
                                  " WHERE kind = 'outbox' AND label = 'pending'"):
                break
            if daemon.poll() is not None:
                sys.exit('dormantd exited early; see %s' % a.work)
            if time.monotonic() - t0 > 900:
                sys.exit('dormantd did not drain the outbox in 15 minutes')
            time.sleep(0.05)
        t1 = time.monotonic()
        left = harness.scalar(dsn, 'SELECT count(*) FROM dormant.outbox WHERE delivered_at IS NULL')
        if left:
            sys.exit('%d messages were not delivered (dead); see %s' % (left, a.work))
        started = harness.scalar(dsn, 'SELECT count(*) FROM dormant.account'
                                 ' WHERE deadline IS NOT NULL')
        if started != n:
            sys.exit('%d of %d grace periods started; see %s' % (started, n, a.work))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    if os.environ.get('DM_BENCH_SLOWLOG'):
        slowlog_summary()
    count, first, last = sink_snapshot(pid, state)
    rate = n / (t1 - t0)
    at_sink = count / (last - first) if last > first else 0.0
    print('%s, %d waiting: delivered and recorded in %.2f s: %.0f/s (%.0f/s at the sink,'
          ' %d received, %d beyond one per message)'
          % (channel, n, t1 - t0, rate, at_sink, count, count - n), flush=True)
    return rate, at_sink, count - n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--messages', default='5000,50000')
    ap.add_argument('--channels', default='webhook,email')
    ap.add_argument('--concurrency', type=int, default=16)
    ap.add_argument('--sink-port', type=int, required=True)
    ap.add_argument('--sink-pid', type=int, required=True)
    ap.add_argument('--sink-state', required=True)
    ap.add_argument('--smtp-port', type=int, default=0)
    ap.add_argument('--smtp-pid', type=int, default=0)
    ap.add_argument('--smtp-state', default='')
    ap.add_argument('--lua', required=True)
    ap.add_argument('--record', default='')
    a = ap.parse_args()
    sizes = [int(x) for x in a.messages.split(',')]
    channels = a.channels.split(',')

    rates = {}
    for channel in channels:
        pid, state = ((a.sink_pid, a.sink_state) if channel == 'webhook'
                      else (a.smtp_pid, a.smtp_state))
        for n in sizes:
            rates[channel, n] = drain(a, n, channel, pid, state, a.sink_port, a.smtp_port)[0]

    url = 'http://127.0.0.1:%d/hook' % a.sink_port
    wrk = subprocess.run(['wrk', '-t2', '-c%d' % a.concurrency, '-d10s', '-s', a.lua, url],
                         capture_output=True, text=True, check=True)
    m = re.search(r'Requests/sec:\s*([\d.]+)', wrk.stdout)
    wrk_rate = float(m.group(1))
    print('wrk -c%d on the same HTTP sink: %.0f requests/s' % (a.concurrency, wrk_rate))

    commit = subprocess.run(['git', '-C', os.path.dirname(HERE), 'rev-parse', '--short',
                             'HEAD'], capture_output=True, text=True).stdout.strip()
    date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')
    rows = []
    small, large = sizes[0], sizes[-1]
    for channel in channels:
        flat = rates[channel, large] / rates[channel, small]
        of_wrk = rates[channel, large] / wrk_rate if wrk_rate else 0.0
        print('%s: %.0f/s with %d waiting, %.0f/s with %d: flat %.2f; %.3f of wrk'
              % (channel, rates[channel, small], small, rates[channel, large], large, flat,
                 of_wrk))
        rows.append('| %s | %s | %d | %s | %d | %s | %.0f | %.0f | %.2f | %.0f | %s |' % (
            date, commit or '-', os.cpu_count(), channel, a.concurrency,
            ' / '.join('{:,}'.format(n) for n in (small, large)), rates[channel, small],
            rates[channel, large], flat, wrk_rate,
            '%.2f' % of_wrk if channel == 'webhook' else '-'))
    if a.record:
        record_scale(a.record, rows)
        print('recorded in %s' % a.record)


if __name__ == '__main__':
    main()
