#!/usr/bin/python3
"""What each index of dormant's schema costs a request (run by bench/indexes,
which provides PostgreSQL and the binaries): prints one table.

On copies of one database (bench/gen: 200k subscribers, 40k due; `dormantctl
migrate`), the request pass's writes as one hand-written statement
(measure.HAND_SQL: account rows, token hashes, `requested` events,
`confirmation.requested` messages) are timed with the whole schema, then
with one index (or constraint, or trigger) dropped at a time, then with all
of them dropped. Each figure is the median of --rounds runs on fresh copies,
as wall time and as the server process's CPU time (/proc/PID/schedstat,
which other engineers' load on a shared machine disturbs far less than the
wall clock). The cost of an index is the difference from the whole schema,
per 1,000 requests. A bare statement into tables with nothing but a primary
key is the floor.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

# (label, SQL that removes it), for what the schema of this version has
# (IF EXISTS: an older one had account_pending_undelivered and a foreign key
# from token to account, which bench/RESULTS.md measured before they went).
DROPS = [
    ('account_pkey',
     'ALTER TABLE dormant.token DROP CONSTRAINT IF EXISTS token_subscriber_id_fkey;'
     ' ALTER TABLE dormant.account DROP CONSTRAINT IF EXISTS account_pkey'),
    ('account_pending_deadline', 'DROP INDEX IF EXISTS dormant.account_pending_deadline'),
    ('account_suspended_at', 'DROP INDEX IF EXISTS dormant.account_suspended_at'),
    ('account_recheck', 'DROP INDEX IF EXISTS dormant.account_recheck'),
    ('account_remind', 'DROP INDEX IF EXISTS dormant.account_remind'),
    ('account_suspended_id', 'DROP INDEX IF EXISTS dormant.account_suspended_id'),
    ('account_confirmed_unscheduled', 'DROP INDEX IF EXISTS dormant.account_confirmed_unscheduled'),
    ('token_pkey', 'ALTER TABLE dormant.token DROP CONSTRAINT IF EXISTS token_pkey'),
    ('token_subscriber', 'DROP INDEX IF EXISTS dormant.token_subscriber'),
    ('event_pkey', 'ALTER TABLE dormant.event DROP CONSTRAINT IF EXISTS event_pkey'),
    ('event_subscriber', 'DROP INDEX IF EXISTS dormant.event_subscriber'),
    ('event_requested_at', 'DROP INDEX IF EXISTS dormant.event_requested_at'),
    ('event_append_only trigger', 'DROP TRIGGER IF EXISTS event_append_only ON dormant.event'),
    ('outbox_pkey', 'ALTER TABLE dormant.outbox DROP CONSTRAINT IF EXISTS outbox_pkey'),
    ('outbox_due', 'DROP INDEX IF EXISTS dormant.outbox_due'),
    ('outbox_subscriber', 'DROP INDEX IF EXISTS dormant.outbox_subscriber'),
    ('outbox_finished', 'DROP INDEX IF EXISTS dormant.outbox_finished'),
    ('tally triggers (account, outbox inserts)',
     'DROP TRIGGER IF EXISTS tally_account_insert ON dormant.account;'
     ' DROP TRIGGER IF EXISTS tally_outbox_insert ON dormant.outbox'),
]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dormantd', required=True)
    ap.add_argument('--dormantctl', required=True)
    ap.add_argument('--subscribers', type=int, default=200000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=1000)
    a = ap.parse_args()
    b = measure.Bench(a)
    try:
        return run(b, a)
    finally:
        b.cleanup()


def run(b, a):
    due = round(a.subscribers * 0.2)
    print('generating %d subscribers (%d due)...' % (a.subscribers, due), flush=True)
    b.generate('bench_ix_tmpl', a.subscribers, 0.2)
    measure.scalar('bench_ix_tmpl', measure.BARE_SCHEMA)
    measure.scalar('bench_ix_tmpl', 'VACUUM ANALYZE')
    variants = [('whole schema', None)] + DROPS + [
        ('all of the above', '; '.join(sql for _, sql in DROPS)), ('bare tables', 'bare')]
    res = {name: [] for name, _ in variants}
    for r in range(a.rounds):
        for name, drop in variants:
            b.create('bench_ix', 'bench_ix_tmpl')
            if drop not in (None, 'bare'):
                measure.scalar('bench_ix', drop)
            wall, cpu, n = measure.timed('bench_ix', measure.BARE_SQL if drop == 'bare' else measure.HAND_SQL)
            if n != due:
                sys.exit('%s: %d requests, expected %d' % (name, n, due))
            res[name].append((wall, cpu))
        print('  round %d done' % (r + 1), flush=True)
    measure.admin('DROP DATABASE IF EXISTS bench_ix WITH (FORCE)')
    base_w = statistics.median(w for w, _ in res['whole schema'])
    base_c = statistics.median(c for _, c in res['whole schema'])
    k = due / 1000.0
    print()
    print('| dropped | statement wall ms (median of %d) | server CPU ms | CPU saved per 1,000'
          ' requests | share of the whole schema\'s CPU |' % a.rounds)
    print('| --- | --- | --- | --- | --- |')
    for name, _ in variants:
        w = statistics.median(x for x, _ in res[name])
        c = statistics.median(x for _, x in res[name])
        print('| %s | %.0f | %.0f | %.2f ms | %.1f %% |'
              % (name, w, c, (base_c - c) / k, 100.0 * (base_c - c) / base_c))
    print()
    print('%d requests; whole schema %.2f ms CPU per request' % (due, base_c / due))
    return 0


if __name__ == '__main__':
    sys.exit(main())
