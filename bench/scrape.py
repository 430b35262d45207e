#!/usr/bin/python3
"""Scrape benchmark: GET /metrics against a database with SMALL accounts and
outbox rows and one with LARGE, measured in one run (median of N scrapes
each, from a running dormantd), and beside them the statement scrapes ran
before the tally table (GROUP BY over account and outbox) on the same data.
Goal: a scrape at LARGE within 2x of one at SMALL. Run through bench/scrape
(which provides PostgreSQL and the binaries)."""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

OLD_SQL = '''SELECT 'account', state, count(*) FROM dormant.account GROUP BY state
 UNION ALL SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
 WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
 FROM dormant.outbox GROUP BY 2'''

# n accounts in every state and as many messages, mostly delivered.
FILL_SQL = '''
INSERT INTO dormant.account (subscriber_id, state, cycle)
SELECT id, (ARRAY['active', 'pending', 'suspended', 'erased'])[1 + id %% 4], 1
  FROM public.subscribers ORDER BY id LIMIT %(n)s;
INSERT INTO dormant.outbox (type, subscriber_id, cycle, delivered_at, dead_at)
SELECT 'subscription.suspended', id, 1,
       CASE WHEN id %% 10 < 8 THEN now() - interval '1 day' END,
       CASE WHEN id %% 10 = 8 THEN now() - interval '1 day' END
  FROM public.subscribers ORDER BY id LIMIT %(n)s;
'''


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def median_ms(fn, n):
    fn()
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        fn()
        times.append((time.monotonic() - t0) * 1000.0)
    return statistics.median(times)


def measure_db(b, a, db, n):
    b.generate(db, n, 0.01)
    c = psycopg2.connect(measure.dsn(db))
    c.autocommit = True
    cur = c.cursor()
    cur.execute(FILL_SQL, {'n': n})
    cur.execute('VACUUM ANALYZE')
    cur.execute('SET jit = off')

    def old():
        cur.execute(OLD_SQL)
        cur.fetchall()
    old_ms = median_ms(old, a.scrapes)

    conf = b.config(db)
    port = free_port()
    with open(conf) as f:
        # dry_run: the pass adds no messages while the scrapes are timed.
        text = f.read().replace('127.0.0.1:1', '127.0.0.1:%d' % port) + 'dry_run = true;\n'
    with open(conf, 'w') as f:
        f.write(text)
    proc = subprocess.Popen([a.dormantd, '-c', conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = 'http://127.0.0.1:%d/metrics' % port
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        body = urllib.request.urlopen(url, timeout=5).read().decode()
        shown = sum(int(v) for v in re.findall(
            r'^dormant_outbox_messages\{state="\w+"\} (\d+)$', body, re.M))
        if shown != n:
            sys.exit('%s: /metrics shows %d messages, the outbox holds %d' % (db, shown, n))
        new_ms = median_ms(lambda: urllib.request.urlopen(url, timeout=10).read(), a.scrapes)
    finally:
        proc.terminate()
        proc.wait()
    c.close()
    return new_ms, old_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dormantd', required=True)
    ap.add_argument('--dormantctl', required=True)
    ap.add_argument('--small', type=int, default=3000)
    ap.add_argument('--large', type=int, default=300000)
    ap.add_argument('--scrapes', type=int, default=30)
    a = ap.parse_args()
    a.batch_size = 1000
    b = measure.Bench(a)
    try:
        s_new, s_old = measure_db(b, a, 'bench_scrape_small', a.small)
        l_new, l_old = measure_db(b, a, 'bench_scrape_large', a.large)
    finally:
        b.cleanup()
    ratio = l_new / s_new
    print('| rows (accounts, messages) | GET /metrics (tally) | old GROUP BY statement |')
    print('|---|---|---|')
    print('| %d | %.2f ms | %.2f ms |' % (a.small, s_new, s_old))
    print('| %d | %.2f ms | %.2f ms |' % (a.large, l_new, l_old))
    print('| ratio | %.2f (goal <= 2) | %.1f |' % (ratio, l_old / s_old))
    return 0 if ratio <= 2.0 else 1


if __name__ == '__main__':
    sys.exit(main())
