"""Driver of bench/delivery (run by it, not by hand): fills an outbox, times
dormantd draining it into the sink, then times wrk on the same sink, and
records both."""

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

HEADING = '## Delivery (webhook)'
TABLE_HEAD = (
    '| date (UTC) | commit | cores | messages | concurrency '
    '| dormantd deliveries/s (claimed, POSTed, 2xx, recorded) | same, seen at the sink '
    '| wrk requests/s (same sink) | ratio |\n'
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n')
INTRO = (
    'Produced by `bench/delivery`: a fresh database whose outbox holds N\n'
    'confirmation requests; `dormantd` (webhook channel only, TLS off, local\n'
    'sink `bench/delivery_sink.py` answering 204) runs until every row has\n'
    '`delivered_at`; the first rate divides N by the time from the daemon\'s\n'
    'start to the last row recorded in the database, the second by the time\n'
    'between the first and the last request the sink saw. Then `wrk` with as\n'
    'many connections as `webhook.concurrency` POSTs the same kind of signed\n'
    'request to the same sink for 10 s. ratio = dormantd at the sink / wrk.\n'
    'Everything (PostgreSQL, dormantd, sink, wrk) shares one machine.\n\n')


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


def record(path, row):
    text = open(path).read() if os.path.exists(path) else '# Benchmark results\n'
    if HEADING not in text:
        text = text.rstrip('\n') + '\n\n' + HEADING + '\n\n' + INTRO + TABLE_HEAD + row + '\n'
    else:
        start = text.index(HEADING)
        lines = text[start:].split('\n')
        # Insert after the last line of the first table of the section.
        i, seen_table = 0, False
        for i, line in enumerate(lines):
            if line.startswith('|'):
                seen_table = True
            elif seen_table:
                break
        else:
            i = len(lines)
        lines.insert(i, row)
        text = text[:start] + '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--messages', type=int, default=20000)
    ap.add_argument('--concurrency', type=int, default=16)
    ap.add_argument('--sink-port', type=int, required=True)
    ap.add_argument('--sink-pid', type=int, required=True)
    ap.add_argument('--sink-state', required=True)
    ap.add_argument('--lua', required=True)
    ap.add_argument('--record', default='')
    a = ap.parse_args()

    dsn_admin = harness.admin_dsn()
    harness.psql(dsn_admin, 'DROP DATABASE IF EXISTS bench_delivery')
    harness.psql(dsn_admin, 'CREATE DATABASE bench_delivery')
    dsn = harness.admin_dsn('bench_delivery')
    harness.psql(dsn, '''CREATE TABLE public.subscribers (
        id bigint PRIMARY KEY, email text, created_at timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz, locale text,
        billing_status text NOT NULL DEFAULT 'active')''')
    url = 'http://127.0.0.1:%d/hook' % a.sink_port
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
    cfg['webhook'].update({'url': url, 'secret_file': secret, 'concurrency': a.concurrency,
                           'timeout': '15 seconds'})
    conf = os.path.join(a.work, 'dormant.conf')
    with open(conf, 'w') as f:
        f.write(harness.render_config(cfg))
    subprocess.run([harness.DORMANTCTL, '-c', conf, 'migrate'], check=True,
                   stdout=subprocess.DEVNULL)
    n = a.messages
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
    if os.environ.get('DM_BENCH_SLOWLOG'):
        harness.psql(dsn_admin, 'ALTER DATABASE bench_delivery SET log_min_duration_statement = %s'
                     % int(os.environ['DM_BENCH_SLOWLOG']))
    sink_snapshot(a.sink_pid, a.sink_state)  # start the sink's count from zero

    t0 = time.monotonic()
    daemon = subprocess.Popen([harness.DORMANTD, '-c', conf], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(a.work, 'dormantd.stderr'), 'wb'))
    try:
        while True:
            if not harness.scalar(dsn, 'SELECT EXISTS (SELECT 1 FROM dormant.outbox'
                                  ' WHERE delivered_at IS NULL AND dead_at IS NULL)'):
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
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    if os.environ.get('DM_BENCH_SLOWLOG'):
        # Statements over the threshold, by kind: count, total and mean ms.
        subprocess.run(['sh', '-c', "grep -h 'duration:' $DM_PG_DIR/server.log | sed -E "
                        "'s/.*duration: ([0-9.]+) ms +(statement|execute [^:]*|parse [^:]*|bind [^:]*):"
                        " *(.{0,50}).*/\\1|\\3/' | awk -F'|' '{n[$2]++; t[$2]+=$1}"
                        " END {for (k in n) printf \"%6d %9.0f ms %6.1f ms  %s\\n\", n[k], t[k],"
                        " t[k]/n[k], k}' | sort -k2 -n -r | head -n 12"])
    count, first, last = sink_snapshot(a.sink_pid, a.sink_state)
    end_to_end = n / (t1 - t0)
    at_sink = count / (last - first) if last > first else 0.0
    dups = count - n

    wrk = subprocess.run(['wrk', '-t2', '-c%d' % a.concurrency, '-d10s', '-s', a.lua, url],
                         capture_output=True, text=True, check=True)
    m = re.search(r'Requests/sec:\s*([\d.]+)', wrk.stdout)
    wrk_rate = float(m.group(1))
    ratio = at_sink / wrk_rate if wrk_rate else 0.0

    print('dormantd: %d messages delivered and recorded in %.2f s: %.0f deliveries/s'
          ' (%.0f/s at the sink, %d requests, %d beyond one per message)'
          % (n, t1 - t0, end_to_end, at_sink, count, dups))
    print('wrk -c%d on the same sink: %.0f requests/s' % (a.concurrency, wrk_rate))
    print('ratio dormantd / wrk: %.2f' % ratio)
    if a.record:
        commit = subprocess.run(['git', '-C', os.path.dirname(HERE), 'rev-parse', '--short',
                                 'HEAD'], capture_output=True, text=True).stdout.strip()
        row = '| %s | %s | %d | %d | %d | %.0f | %.0f | %.0f | %.2f |' % (
            datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'),
            commit or '-', os.cpu_count(), n, a.concurrency, end_to_end, at_sink, wrk_rate,
            ratio)
        record(a.record, row)
        print('recorded in %s' % a.record)


if __name__ == '__main__':
    main()
