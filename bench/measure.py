#!/usr/bin/python3
"""The benchmark's measurements (run by bench/run, which provides PostgreSQL
and the binaries): prints one table and exits non-zero if a goal is missed.

  1. one `dormantd --once` pass over 200k subscribers of which 40k are due,
     against the same work (state rows, tokens, events, messages) as one
     hand-written set-based SQL statement on an identical copy (goal >= 0.8),
     and a bare statement writing the same rows into tables with nothing but
     a primary key (the floor); wall time, and the server processes' CPU
     time, which the other load of a shared machine disturbs far less;
  2. an idle pass over 2M subscribers against one over 200k, without the
     sweep's page (the "pass done" line's duration_ms - sweep_ms);
  3. peak RSS of pass 1 (/usr/bin/time -v);
  4. the sweep, measured apart: one pass that owes it SWEEP_ROWS rows, on
     both tables, its cost per 1,000 rows examined against a reference read
     of the same rows in the same run (1,000-row pages over the primary key,
     as plain SELECTs), and the page a pass takes at 2M and 200M rows for
     the default sweep_period and poll_interval;
  5. an idle pass beside 100k suspensions younger than
     limits.max_activity_lag (each checked every pass for late activity and
     billing set back), against the same pass once they are older.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2
import psycopg2.extensions

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIG = '''database = {{ conninfo = "{dsn}"; schema = "dormant"; }};
source = {{ table = "public.subscribers"; id = "id"; email = "email"; created_at = "created_at";
           last_activity_at = "last_activity_at"; locale = "locale"; eligible = "s.plan <> 'staff'";
           billing = {{ column = "billing_status"; active = "active"; suspended = "suspended"; }}; }};
policy = {{ inactive_after = "2 years"; never_active_after = "1 year"; min_account_age = "30 days";
           confirm_within = "30 days"; reminders = [ "7 days", "1 day" ]; }};
limits = {{ poll_interval = "1 minute"; batch_size = {batch}; max_requests_per_day = 1000000;
           max_activity_lag = "1 day"; max_backlog_fraction = 1.0; }};
http = {{ listen = "127.0.0.1:1"; public_url = "https://account.example.com/dormant"; }};
log = {{ level = "info"; destination = "{log}"; format = "logfmt"; }};
'''

# The same work as the request step, written by hand as one statement.
HAND_SQL = '''
WITH due AS (
  SELECT s.id, s.email, s.locale, s.last_activity_at AS la, s.created_at,
         CASE WHEN s.last_activity_at IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
         replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') AS token,
         nextval('dormant.outbox_id_seq') AS outbox_id
    FROM public.subscribers s
   WHERE s.billing_status = 'active' AND s.plan <> 'staff'
     AND s.created_at <= now() - interval '30 days'
     AND (s.last_activity_at <= now() - interval '2 years'
          OR (s.last_activity_at IS NULL AND s.created_at <= now() - interval '1 year'))
     AND NOT EXISTS (SELECT 1 FROM dormant.exemption e WHERE e.subscriber_id = s.id)
     AND NOT EXISTS (SELECT 1 FROM dormant.account a
                      WHERE a.subscriber_id = s.id AND a.state <> 'active')
   -- The sort makes the whole set before the first insert: otherwise the
   -- anti-join re-reads the account rows this statement is inserting.
   ORDER BY s.id),
acc AS (INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,
                                     request_outbox_id)
        SELECT id, 'pending', 1, rule, now(), outbox_id FROM due RETURNING subscriber_id),
tok AS (INSERT INTO dormant.token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(token, 'UTF8')), id, 1 FROM due),
ev AS (INSERT INTO dormant.event (subscriber_id, kind, cycle, actor, detail)
       SELECT id, 'requested', 1, 'daemon',
              jsonb_build_object('rule', rule, 'last_activity_at', la, 'created_at', created_at)
         FROM due),
msg AS (INSERT INTO dormant.outbox (id, type, subscriber_id, cycle, payload)
        SELECT outbox_id, 'confirmation.requested', id, 1,
               jsonb_build_object('type', 'confirmation.requested',
                 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', id::text, 'email', email,
                   'locale', locale,
                   'confirm_url', 'https://account.example.com/dormant/c/' || token,
                   'last_activity_at',
                     to_char(la AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'rule', rule))
          FROM due)
SELECT count(*) FROM acc
'''

# The floor: the same rows into tables with a primary key and nothing else.
BARE_SCHEMA = '''
CREATE SCHEMA bare;
CREATE TABLE bare.account (subscriber_id bigint PRIMARY KEY, state text NOT NULL, cycle integer,
  rule text, requested_at timestamptz, request_outbox_id bigint,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bare.event (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
  subscriber_id bigint, kind text NOT NULL, cycle integer, actor text NOT NULL, detail jsonb);
CREATE TABLE bare.outbox (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL, subscriber_id bigint NOT NULL, cycle integer, token_hash bytea,
  payload jsonb);
'''
BARE_SQL = '''
WITH due AS (
  SELECT s.id, s.email, s.locale, s.last_activity_at AS la, s.created_at,
         CASE WHEN s.last_activity_at IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
         replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') AS token,
         nextval('bare.outbox_id_seq') AS outbox_id
    FROM public.subscribers s
   WHERE s.billing_status = 'active' AND s.plan <> 'staff'
     AND s.created_at <= now() - interval '30 days'
     AND (s.last_activity_at <= now() - interval '2 years'
          OR (s.last_activity_at IS NULL AND s.created_at <= now() - interval '1 year'))
   ORDER BY s.id),
acc AS (INSERT INTO bare.account (subscriber_id, state, cycle, rule, requested_at,
                                  request_outbox_id)
        SELECT id, 'pending', 1, rule, now(), outbox_id FROM due RETURNING subscriber_id),
ev AS (INSERT INTO bare.event (subscriber_id, kind, cycle, actor, detail)
       SELECT id, 'requested', 1, 'daemon',
              jsonb_build_object('rule', rule, 'last_activity_at', la, 'created_at', created_at)
         FROM due),
msg AS (INSERT INTO bare.outbox (id, type, subscriber_id, cycle, token_hash, payload)
        SELECT outbox_id, 'confirmation.requested', id, 1, sha256(convert_to(token, 'UTF8')),
               jsonb_build_object('type', 'confirmation.requested',
                 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', id::text, 'email', email,
                   'locale', locale,
                   'confirm_url', 'https://account.example.com/dormant/c/' || token,
                   'last_activity_at',
                     to_char(la AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'rule', rule))
          FROM due)
SELECT count(*) FROM acc
'''


def dsn(db):
    return psycopg2.extensions.make_dsn(host=os.environ.get('PGHOST'),
                                        port=os.environ.get('PGPORT') or None,
                                        user=os.environ.get('PGUSER') or 'postgres', dbname=db)


def admin(sql):
    c = psycopg2.connect(dsn('postgres'))
    c.autocommit = True
    c.cursor().execute(sql)
    c.close()


def scalar(db, sql):
    """First value of sql's result on database db (None for a command)."""
    c = psycopg2.connect(dsn(db))
    try:
        c.autocommit = True
        cur = c.cursor()
        cur.execute(sql)
        return cur.fetchone()[0] if cur.description else None
    finally:
        c.close()


def timed(db, sql):
    """Runs sql on db in a session of its own (jit off, as dormantd's);
    returns (wall ms, server CPU ms, first value)."""
    c = psycopg2.connect(dsn(db))
    c.autocommit = True
    cur = c.cursor()
    cur.execute('SET jit = off')
    cur.execute('SELECT pg_backend_pid()')
    pid = cur.fetchone()[0]

    def cpu():
        try:
            with open('/proc/%d/schedstat' % pid) as f:
                return int(f.read().split()[0]) / 1e6
        except OSError:  # the server on another machine: wall time only
            return float('nan')
    c0, t0 = cpu(), time.monotonic()
    cur.execute(sql)
    n = cur.fetchone()[0]
    wall, c1 = (time.monotonic() - t0) * 1000.0, cpu()
    c.close()
    return wall, c1 - c0, n


def backend_cpu(pids):
    """CPU milliseconds the server processes pids have used so far (Linux)."""
    total = 0.0
    for pid in pids:
        try:
            with open('/proc/%d/schedstat' % pid) as f:
                total += int(f.read().split()[0]) / 1e6
        except OSError:
            pass
    return total


class Bench:

    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix='dormant-bench.')
        self.dbs = []

    def config(self, db):
        path = os.path.join(self.tmp, db + '.conf')
        with open(path, 'w') as f:
            f.write(CONFIG.format(dsn=dsn(db), batch=self.a.batch_size,
                                  log=os.path.join(self.tmp, db + '.log')))
        return path

    def create(self, db, template=None):
        admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        admin('CREATE DATABASE "%s"%s' % (db, ' TEMPLATE "%s"' % template if template else ''))
        self.dbs.append(db)

    def generate(self, db, n, due):
        self.create(db)
        subprocess.run([os.path.join(HERE, 'gen'), '--dsn', dsn(db), '--subscribers', str(n),
                        '--due', str(due)], check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run([self.a.dormantctl, '-c', self.config(db), 'migrate'],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('migrate failed: ' + r.stderr)
        scalar(db, 'VACUUM ANALYZE')

    def once(self, db, timed=False):
        """One dormantd --once; returns (wall seconds, pass duration_ms, peak RSS KiB,
        the "pass done" line's fields)."""
        log = os.path.join(self.tmp, db + '.log')
        before = os.path.getsize(log) if os.path.exists(log) else 0
        cmd = [self.a.dormantd, '-c', self.config(db), '--once']
        if timed:
            cmd = ['/usr/bin/time', '-v'] + cmd
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if timed:
            # The server time of its sessions: their processes' CPU, read
            # until they end (every few milliseconds, so the last reading
            # misses at most that much).
            c = psycopg2.connect(dsn('postgres'))
            c.autocommit = True
            cur = c.cursor()
            seen, n = {}, 0
            while proc.poll() is None:
                if n % 50 == 0:
                    cur.execute('SELECT pid FROM pg_stat_activity WHERE datname = %s', (db,))
                    for (pid,) in cur.fetchall():
                        seen.setdefault(pid, 0.0)
                for pid in seen:
                    seen[pid] = backend_cpu([pid]) or seen[pid]
                n += 1
                time.sleep(0.002)
            c.close()
            self.last_cpu_ms = sum(seen.values())
        out, err = proc.communicate()
        wall = time.monotonic() - t0
        r = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
        if r.returncode != 0:
            sys.exit('dormantd --once failed (%d): %s' % (r.returncode, r.stderr[-2000:]))
        with open(log) as f:
            f.seek(before)
            text = f.read()
            m = re.search(r'msg="pass done".* duration_ms=(\d+)', text)
        line = re.search(r'msg="pass done"(.*)', text).group(1)
        fields = {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', line)}
        rss = None
        if timed:
            mm = re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr)
            rss = int(mm.group(1)) if mm else None
        return wall, int(m.group(1)), rss, fields

    def sweep(self, db, rows):
        """One pass that owes the sweep `rows` rows (its paid-up time set back
        by that share of sweep_period), then the same rows read as plain
        1,000-row pages over the primary key. Returns (rows examined, sweep
        ms, ms per 1,000, reference ms per 1,000)."""
        cursor = scalar(db, 'SELECT sweep_cursor FROM dormant.control')
        scalar(db, "UPDATE dormant.control SET sweep_paid_until = now() - interval '1 day'"
                   " * (%d / greatest((SELECT reltuples FROM pg_class"
                   "   WHERE oid = 'public.subscribers'::regclass),"
                   "   coalesce(sweep_last_rows, 0), sweep_rows))" % rows)
        _, _, _, f = self.once(db)
        examined, ms = f['swept'], f['sweep_ms']
        c = psycopg2.connect(dsn(db))
        c.autocommit = True
        cur = c.cursor()
        cur.execute('SET jit = off')
        last, seen = cursor or 0, 0
        t0 = time.monotonic()
        while seen < examined:
            cur.execute('SELECT max(id), count(*) FROM (SELECT id, email, created_at,'
                        ' last_activity_at, locale, billing_status, plan FROM public.subscribers'
                        ' WHERE id > %s ORDER BY id LIMIT 1000) x', (last,))
            last, k = cur.fetchone()
            if not k:
                last = 0
            seen += k or 0
        ref = (time.monotonic() - t0) * 1000.0
        c.close()
        return examined, ms, ms * 1000.0 / max(examined, 1), ref * 1000.0 / max(seen, 1)

    def suspended(self, db, n):
        """Idle passes beside n suspended accounts, first all suspended within
        limits.max_activity_lag (each checked every pass for late activity
        and billing set back), then all suspended a month ago (found only by
        the walk's pages). Returns the two medians of 5, in ms, without the
        sweep's page."""
        scalar(db, "INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,"
                   " delivered_at, deadline, suspended_at)"
                   " SELECT id, 'suspended', 1, 'inactive', now() - interval '40 days',"
                   " now() - interval '40 days', now() - interval '10 days',"
                   " now() - (id %% 1000) * interval '1 minute'"
                   " FROM public.subscribers WHERE billing_status = 'active' ORDER BY id LIMIT %d;"
                   " UPDATE public.subscribers s SET billing_status = 'suspended',"
                   " last_activity_at = now() - interval '3 years' FROM dormant.account a"
                   " WHERE a.subscriber_id = s.id" % n)
        scalar(db, 'VACUUM ANALYZE')
        medians = []
        for _ in range(2):
            runs = [self.once(db)[3] for _ in range(5)]
            medians.append(statistics.median(f['duration_ms'] - f['sweep_ms'] for f in runs))
            scalar(db, "UPDATE dormant.account SET suspended_at = now() - interval '30 days'")
            scalar(db, 'VACUUM ANALYZE')
        return medians

    def cleanup(self):
        for db in self.dbs:
            admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        subprocess.run(['rm', '-rf', self.tmp])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dormantd', required=True)
    ap.add_argument('--dormantctl', required=True)
    ap.add_argument('--batch-size', type=int, default=1000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--small', type=int, default=200000)
    ap.add_argument('--large', type=int, default=2000000)
    ap.add_argument('--sweep-rows', type=int, default=100000)
    ap.add_argument('--suspended', type=int, default=100000)
    a = ap.parse_args()
    b = Bench(a)
    try:
        return run(b, a)
    finally:
        b.cleanup()


def run(b, a):
    due = 0.2
    print('generating %d subscribers (%d due)...' % (a.small, a.small * due), flush=True)
    b.generate('bench_tmpl', a.small, due)

    # 1. One pass against the hand-written statement, on identical copies.
    # The floor beside it: the same rows into tables with nothing but a
    # primary key (the bare schema, in the same database).
    scalar('bench_tmpl', BARE_SCHEMA)
    dorm, dorm_pass, sql, bare, rss = [], [], [], [], []
    dorm_cpu, sql_cpu, bare_cpu = [], [], []
    for r in range(a.rounds):
        b.create('bench_d', 'bench_tmpl')
        b.create('bench_s', 'bench_tmpl')
        b.create('bench_b', 'bench_tmpl')
        wall, ms, kib, _ = b.once('bench_d', timed=True)
        got = scalar('bench_d', "SELECT count(*) FROM dormant.account WHERE state = 'pending'")
        if got != a.small * due:
            sys.exit('dormant requested %d, expected %d' % (got, a.small * due))
        swall, scpu, n = timed('bench_s', HAND_SQL)
        if n != a.small * due:
            sys.exit('hand-written SQL requested %d, expected %d' % (n, a.small * due))
        bwall, bcpu, n = timed('bench_b', BARE_SQL)
        if n != a.small * due:
            sys.exit('bare SQL requested %d, expected %d' % (n, a.small * due))
        dorm.append(wall)
        dorm_pass.append(ms / 1000.0)
        sql.append(swall / 1000.0)
        bare.append(bwall / 1000.0)
        rss.append(kib)
        dorm_cpu.append(b.last_cpu_ms / 1000.0)
        sql_cpu.append(scpu / 1000.0)
        bare_cpu.append(bcpu / 1000.0)
        print('  round %d: dormantd --once %.2f s (pass %.2f s; server CPU %.2f s), SQL %.2f s'
              ' (CPU %.2f s), bare SQL %.2f s (CPU %.2f s), RSS %d KiB'
              % (r + 1, wall, ms / 1000.0, dorm_cpu[-1], sql[-1], sql_cpu[-1], bare[-1],
                 bare_cpu[-1], kib), flush=True)
    for db in ('bench_s', 'bench_d', 'bench_b'):
        admin('DROP DATABASE IF EXISTS %s' % db)

    # 2. Idle passes: nothing due, 20 % of the table already pending.
    idle, sweep = {}, {}
    for n in (a.small, a.large):
        db = 'bench_idle_%d' % n
        print('generating %d subscribers for the idle pass...' % n, flush=True)
        b.generate(db, n, due)
        b.once(db)  # the first pass requests the backlog; what follows is idle
        scalar(db, 'VACUUM ANALYZE')
        runs = [b.once(db) for _ in range(5)]
        idle[n] = (statistics.median(r[1] - r[3]['sweep_ms'] for r in runs),
                   statistics.median(r[0] for r in runs),
                   statistics.median(r[1] for r in runs))
        print('  %d: idle pass without the sweep %d ms, with its page %d ms (median of 5;'
              ' --once process %.0f ms)' % (n, idle[n][0], idle[n][2], idle[n][1] * 1000),
              flush=True)
        sweep[n] = b.sweep(db, a.sweep_rows)
        print('  %d: sweep %d rows in %d ms (%.1f ms per 1,000); reference read %.1f ms per 1,000'
              % ((n,) + sweep[n]), flush=True)
        admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)

    # 5. Suspended accounts: those younger than limits.max_activity_lag are
    # checked every pass (late activity, billing set back), the rest by
    # the walk's pages.
    db = 'bench_suspended'
    print('generating %d subscribers, %d suspended...' % (a.small, a.suspended), flush=True)
    b.generate(db, a.small, 0.0)
    recent, old = b.suspended(db, a.suspended)
    print('  idle pass beside %d suspensions: %d ms all recent, %d ms all older (median of 5)'
          % (a.suspended, recent, old), flush=True)
    admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)

    d = statistics.median(dorm)
    s = statistics.median(sql)
    ratio1 = s / d
    dc, sc = statistics.median(dorm_cpu), statistics.median(sql_cpu)
    bw, bc = statistics.median(bare), statistics.median(bare_cpu)
    ratio2 = idle[a.large][0] / max(idle[a.small][0], 1)
    peak = max(rss) / 1024.0
    rows = [
        ('1. pass, %dk subscribers, %dk due' % (a.small // 1000, a.small * due // 1000),
         'SQL %.2f s / dormantd --once %.2f s = %.2f' % (s, d, ratio1), '>= 0.8',
         ratio1 >= 0.8),
        ('1. the same in server CPU time', 'SQL %.2f s / dormantd %.2f s = %.2f'
         % (sc, dc, sc / max(dc, 0.001)), 'stated', True),
        ('1. the bare minimum: no secondary index, no token table',
         'bare SQL %.2f s (CPU %.2f s): SQL into the schema is %.2fx (CPU %.2fx)'
         % (bw, bc, s / max(bw, 0.001), sc / max(bc, 0.001)), 'stated', True),
        ('2. idle pass without the sweep, %dM vs %dk' % (a.large // 1000000, a.small // 1000),
         '%d ms / %d ms = %.2fx' % (idle[a.large][0], idle[a.small][0], ratio2), '<= 1.5x',
         ratio2 <= 1.5),
        ('3. peak RSS of pass 1', '%.1f MiB' % peak, '<= 32 MiB', peak <= 32),
    ]
    # The sweep's page at the defaults: rows * poll_interval / sweep_period.
    per_k = sweep[a.large][2]
    ratio4 = per_k / max(sweep[a.large][3], 0.001)
    for n in (a.small, a.large):
        rows.append(('4. sweep, %s rows: %d examined in one pass' % (n, sweep[n][0]),
                     '%.1f ms per 1,000 = %.1fx the reference read (%.1f ms)'
                     % (sweep[n][2], sweep[n][2] / max(sweep[n][3], 0.001), sweep[n][3]),
                     'stated', True))
    for n in (2000000, 200000000):
        page = n * 60 / 86400.0
        rows.append(('4. sweep page at %dM rows (1 day, 1 minute)' % (n // 1000000),
                     '%.0f rows a pass, about %.0f ms a pass at %.1f ms per 1,000'
                     % (page, page * per_k / 1000.0, per_k), 'stated', True))
    rows.append(('5. idle pass beside %dk suspensions younger than max_activity_lag'
                 % (a.suspended // 1000),
                 '%d ms, %.1fx the same pass when they are older (%d ms)'
                 % (recent, recent / max(old, 1), old), 'stated', True))
    print()
    print('| measurement | result | goal | met |')
    print('| --- | --- | --- | --- |')
    for name, result, goal, ok in rows:
        print('| %s | %s | %s | %s |' % (name, result, goal, 'yes' if ok else 'NO'))
    print()
    print('batch_size %d; pass-only time of pass 1 (from the "pass done" line): %.2f s'
          % (a.batch_size, statistics.median(dorm_pass)))
    print('sweep at %d rows: %.1fx the reference read' % (a.large, ratio4))
    return 0 if all(r[3] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
