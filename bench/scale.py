#!/usr/bin/python3
"""The engine at the size of a large service (run by bench/scale, which
provides PostgreSQL and the binaries): prints one table.

For each table (a reference of --reference rows, then --subscribers rows
plain and hash-partitioned in --partitions), in one run and one database
each, dropped afterwards:

  gen      the source table made by one INSERT ... SELECT generate_series
           (unlogged: the passes below only read it), then VACUUM ANALYZE;
  migrate  `dormantctl migrate --create-indexes` (the two source indexes,
           concurrently; per partition and attached on a partitioned table);
  first    the first `dormantd --once`: every due subscriber requested
           (--due of the table; the batches of limits.batch_size);
  idle     an idle `--once` (median of 3): nothing due, the due already
           pending; its time without and with the sweep's page;
  page     one pass owing the sweep the default page (rows * poll_interval /
           sweep_period: 1 minute of 1 day), and one owing --sweep-rows rows,
           whose cost per 1,000 rows examined is set against a plain read of
           the same rows over the primary key in the same run.

The mix: --due of the rows due (90 % inactive 2-6 years, 10 % never active
since signing up 1-4 years ago), 2 % young, the rest active within 2 years
(most of them recently), 3 % of those with billing cancelled and 0.5 % staff
(both skipped by the engine). Categories follow a fixed permutation of the
ids, so due subscribers are spread over the key range and every run makes
the same table.
"""

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402  (the same configuration, --once and sweep readers)

COLUMNS = '''id bigint NOT NULL,
        email text,
        created_at timestamptz NOT NULL,
        last_activity_at timestamptz,
        locale text,
        billing_status text NOT NULL DEFAULT 'active',
        plan text NOT NULL DEFAULT 'standard\''''

# k is the row's place in a fixed permutation of 0..n-1 (g * P mod n, P prime
# to n): due rows first, then young ones, then the active rest.
FILL = '''
INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale, billing_status,
                                plan)
SELECT g + 1, 'user' || (g + 1) || '@example.com',
       CASE WHEN k < %(due)s * 0.9 THEN now() - interval '6 years' - random() * interval '2 years'
            WHEN k < %(due)s THEN now() - interval '1 year 1 day' - random() * interval '3 years'
            WHEN k < %(due)s + %(young)s THEN now() - random() * interval '29 days'
            ELSE now() - interval '2 years 6 months' - random() * interval '5 years' END,
       CASE WHEN k < %(due)s * 0.9
              THEN now() - interval '2 years 1 day' - random() * interval '4 years'
            WHEN k < %(due)s THEN NULL
            WHEN k < %(due)s + %(young)s
              THEN CASE WHEN random() < 0.3 THEN NULL ELSE now() - random() * interval '20 days' END
            ELSE now() - power(random(), 3) * interval '700 days' END,
       (ARRAY['en', 'fr', 'en', 'de', 'en'])[1 + mod(g + 1, 5)::int],
       CASE WHEN k >= %(due)s + %(young)s AND r < 0.03 THEN 'cancelled' ELSE 'active' END,
       CASE WHEN k >= %(due)s + %(young)s AND r >= 0.03 AND r < 0.035 THEN 'staff'
            ELSE 'standard' END
  FROM (SELECT g, (g * %(p)s::bigint) %% %(n)s AS k, random() AS r
          FROM generate_series(0, %(n)s - 1) g) x
'''


# The source's bytes with its indexes, partitions included.
SIZE = """SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
             AND c.relname ~ '^subscribers(_p[0-9]+)?$'"""


def prime_to(n):
    p = 1000003
    while math.gcd(p, n) != 1:
        p += 2
    return p


def free_gib():
    return shutil.disk_usage('/tmp').free / 2**30


def mem_available_gib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) / 2**20
    return float('nan')


class Scale(measure.Bench):

    def make(self, db, n, due, partitions):
        """The source table; returns (seconds, bytes of table and primary key)."""
        self.create(db)
        c = psycopg2.connect(measure.dsn(db))
        c.autocommit = True
        cur = c.cursor()
        cur.execute('SET jit = off')
        cur.execute("SET maintenance_work_mem = '512MB'")
        t0 = time.monotonic()
        if partitions:
            cur.execute('CREATE TABLE public.subscribers (%s) PARTITION BY HASH (id)' % COLUMNS)
            for i in range(partitions):
                cur.execute('CREATE UNLOGGED TABLE public.subscribers_p%d PARTITION OF'
                            ' public.subscribers FOR VALUES WITH (MODULUS %d, REMAINDER %d)'
                            % (i, partitions, i))
        else:
            cur.execute('CREATE UNLOGGED TABLE public.subscribers (%s)' % COLUMNS)
        cur.execute(FILL, {'n': n, 'due': due, 'young': round(n * 0.02), 'p': prime_to(n)})
        cur.execute('ALTER TABLE public.subscribers ADD PRIMARY KEY (id)')
        cur.execute('VACUUM ANALYZE public.subscribers')
        secs = time.monotonic() - t0
        cur.execute(SIZE)
        size = cur.fetchone()[0]
        c.close()
        return secs, int(size)

    def migrate(self, db):
        t0 = time.monotonic()
        r = subprocess.run([self.a.dormantctl, '-c', self.config(db), 'migrate',
                            '--create-indexes'], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('migrate failed: ' + r.stdout[-1000:] + r.stderr[-1000:])
        secs = time.monotonic() - t0
        measure.scalar(db, 'VACUUM ANALYZE')
        return secs


def one_table(b, a, name, n, partitions):
    db = 'bench_scale_' + name
    due = round(n * a.due)
    print('%s: %d subscribers (%d due)%s; %.0f GiB free on /tmp, %.1f GiB memory available'
          % (name, n, due, ', %d hash partitions' % partitions if partitions else '',
             free_gib(), mem_available_gib()), flush=True)
    r = {'name': name, 'n': n, 'due': due, 'partitions': partitions}
    r['gen_s'], r['bytes'] = b.make(db, n, due, partitions)
    print('  gen %.0f s, table and primary key %.2f GiB' % (r['gen_s'], r['bytes'] / 2**30),
          flush=True)
    if a.log_slow is not None:  # the server's log names the statements that took longer
        measure.admin('ALTER DATABASE "%s" SET log_min_duration_statement = %d' % (db, a.log_slow))
    r['migrate_s'] = b.migrate(db)
    r['total_bytes'] = int(measure.scalar(db, SIZE))
    print('  migrate --create-indexes %.0f s (source with indexes %.2f GiB)'
          % (r['migrate_s'], r['total_bytes'] / 2**30), flush=True)

    wall, ms, kib, f = b.once(db, timed=True)
    if f['requested'] != due:
        sys.exit('%s: the first pass requested %d, expected %d' % (name, f['requested'], due))
    r['first'] = (wall, ms, kib, f)
    print('  first pass: %.1f s as a process, pass %.1f s, %d requested, %d swept in %d ms,'
          ' peak RSS %.1f MiB' % (wall, ms / 1000.0, f['requested'], f['swept'], f['sweep_ms'],
                                  kib / 1024.0), flush=True)
    measure.scalar(db, 'VACUUM ANALYZE')
    runs = [b.once(db) for _ in range(3)]
    r['idle'] = (statistics.median(x[1] - x[3]['sweep_ms'] for x in runs),
                 statistics.median(x[1] for x in runs),
                 statistics.median(x[0] for x in runs))
    print('  idle pass: %d ms without the sweep, %d ms with its page; --once process %.0f ms'
          % (r['idle'][0], r['idle'][1], r['idle'][2] * 1000), flush=True)
    page = max(100, round(n * 60 / 86400.0))
    r['page'] = b.sweep(db, page)
    print('  default sweep page: %d rows in %d ms (%.1f ms per 1,000; reference read %.2f)'
          % r['page'], flush=True)
    r['sweep'] = b.sweep(db, a.sweep_rows)
    print('  sweep page of %d rows: %d ms (%.1f ms per 1,000; reference read %.2f)'
          % r['sweep'], flush=True)
    r['free_gib'] = free_gib()
    r['mem_gib'] = mem_available_gib()
    r['dormant_bytes'] = int(measure.scalar(
        db, "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            " JOIN pg_namespace s ON s.oid = c.relnamespace"
            " WHERE s.nspname = 'dormant' AND c.relkind = 'r'"))
    print('  dormant schema %.2f GiB; %.0f GiB free on /tmp, %.1f GiB memory available'
          % (r['dormant_bytes'] / 2**30, r['free_gib'], r['mem_gib']), flush=True)
    if not a.keep:
        measure.admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        b.dbs.remove(db)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dormantd', required=True)
    ap.add_argument('--dormantctl', required=True)
    ap.add_argument('--batch-size', type=int, default=1000)
    ap.add_argument('--subscribers', type=int, default=20000000)
    ap.add_argument('--reference', type=int, default=200000)
    ap.add_argument('--due', type=float, default=0.03)
    ap.add_argument('--partitions', type=int, default=16)
    ap.add_argument('--sweep-rows', type=int, default=100000)
    ap.add_argument('--only', choices=['plain', 'partitioned'], default=None)
    ap.add_argument('--log-slow', type=int, default=None, metavar='MS',
                    help="log the tables' statements slower than MS in the server's log")
    ap.add_argument('--keep', action='store_true', help='keep the large tables (not dropped)')
    a = ap.parse_args()
    b = Scale(a)
    t0 = time.monotonic()
    try:
        res = [one_table(b, a, 'reference', a.reference, 0)]
        if a.only != 'partitioned':
            res.append(one_table(b, a, 'plain', a.subscribers, 0))
        if a.only != 'plain':
            res.append(one_table(b, a, 'partitioned', a.subscribers, a.partitions))
    finally:
        if a.keep:
            b.dbs = [db for db in b.dbs if not db.startswith('bench_scale_')]
        b.cleanup()
    ref = res[0]

    def per_k(r):
        return r['first'][1] * 1000.0 / max(r['first'][3]['requested'], 1)

    print()
    print('| table | rows (due) | gen | migrate --create-indexes | first pass: wall, pass,'
          ' per 1,000 requests (x reference) | idle pass without / with page (x reference) |'
          ' default page: rows, ms | sweep per 1,000 (x reference; x plain read) | RSS |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in res:
        w, ms, kib, f = r['first']
        print('| %s | %d (%d) | %.0f s, %.2f GiB | %.0f s, %.2f GiB | %.1f s, %.1f s, %.0f ms'
              ' (%.2fx) | %d / %d ms (%.2fx / %.2fx) | %d, %d ms | %.1f ms (%.2fx; %.0fx) |'
              ' %.1f MiB |'
              % (r['name'] + (' (%d partitions)' % r['partitions'] if r['partitions'] else ''),
                 r['n'], r['due'], r['gen_s'], r['bytes'] / 2**30, r['migrate_s'],
                 r['total_bytes'] / 2**30, w, ms / 1000.0, per_k(r), per_k(r) / per_k(ref),
                 r['idle'][0], r['idle'][1], r['idle'][0] / max(ref['idle'][0], 1),
                 r['idle'][1] / max(ref['idle'][1], 1), r['page'][0], r['page'][1],
                 r['sweep'][2], r['sweep'][2] / max(ref['sweep'][2], 0.001),
                 r['sweep'][2] / max(r['sweep'][3], 0.001), kib / 1024.0))
    print()
    print('total %.0f s' % (time.monotonic() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
