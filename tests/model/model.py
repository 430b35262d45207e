"""The referee: a model-based randomized test of dormant's whole lifecycle.

A seeded random driver does to a real dormantd (one or several instances, on a
real PostgreSQL) what applications and operators do: activity writes (current,
late, out of order, from sessions in other zones, to a timestamptz, timestamp
or date column: a per-history choice), billing changes, inserts with old
activity, deletes, eligibility changes, exemptions, answers on the confirmation
page (keep, pause, replayed and forged links), the mailer's acknowledgements,
bounces, pauses of both kinds, reloads that change the policy, kill -9 and
restarts. A live feed (two subscribers who keep watching) runs through every
step, as in a real service.

After every step the promises of DESIGN.md section 1 are checked against the
database (dormant.event, dormant.outbox, dormant.account, the source table and
a log that a trigger on the source table keeps of every change dormant makes
to it, with the row as dormant's statement locked it). Each violation names
the promise, the step that revealed it, the seed; a failing history is shrunk
by delta debugging over its steps, replayed.

The model knows, for every source row, each version the driver committed and
the window [t_start, t_done] in which it committed; a check only reports what
is false for every interleaving those windows allow, so a violation is never
a race of the referee's own making. Times are seconds since the epoch, from
the machine's one clock (PostgreSQL's now() and Python's time.time() agree).

Run it with scripts/model; see the README's "The model test" section.
"""

import base64
import copy
import datetime
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
import harness  # noqa: E402
import psycopg2  # noqa: E402

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None

SOURCE_ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']
# email.timezone, the zone of the dates the messages state (promise 3's
# "end of the day"): one per history.
EMAIL_ZONES = ['UTC', 'Europe/Paris', 'Pacific/Auckland', 'America/St_Johns']
SESSION_ZONES = ['UTC', 'Asia/Tokyo', 'America/Los_Angeles', 'Australia/Lord_Howe', 'Europe/Berlin']
MAX_ACTIVITY_LAG = 2 * 86400   # limits.max_activity_lag, seconds
SIGNAL_SLACK = 0.5              # a statement sent before a signal may start on the server this much later
LEASE = 5.0                     # the scanning lead's lease: max(3 polls, 5 s) (lib/lease.h)
WATCHERS = (1, 2)          # the live feed: subscribers who keep watching
TRANSITIONS_DONE_TO = ('requested', 'reminded', 'suspended', 'erased')


class Violation(Exception):
    pass


def now():
    return time.time()


def ts(x):
    """Epoch seconds of a psycopg2 datetime (None stays None)."""
    return None if x is None else x.timestamp()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        '%H:%M:%S.%f')[:-3] if t is not None else 'NULL'


def seconds(text):
    """'4 seconds' -> 4.0 (the subset of interval words the model writes)."""
    m = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*(second|seconds|minute|minutes|hour|hours|day|days|'
                     r'year|years)\s*', text)
    if not m:
        raise ValueError(text)
    n = float(m.group(1))
    unit = m.group(2).rstrip('s')
    return n * {'second': 1, 'minute': 60, 'hour': 3600, 'day': 86400, 'year': 365.25 * 86400}[unit]


def end_of_stated(stated, zone, day):
    """The end of the unit a message states for the deadline instant stated
    (ISO 8601 UTC, as in data.deadline): for a confirmation period of a day
    or more, the next local midnight in zone (a deadline exactly at a local
    midnight is the end of the day before it); for a shorter one, the end of
    the stated second (the instant itself when it is a whole second). None
    when stated is not such a timestamp."""
    try:
        dt = datetime.datetime.fromisoformat(stated.replace('Z', '+00:00'))
    except (ValueError, AttributeError):
        return None
    if dt.tzinfo is None:
        return None
    t = dt.timestamp()
    if not day:
        return float(math.ceil(t))
    if ZoneInfo is None:
        return None
    local = dt.astimezone(ZoneInfo(zone))
    if local.time() == datetime.time(0):
        return t
    midnight = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(0),
                                         ZoneInfo(zone))
    return midnight.timestamp()


def mail_deadline_words(stated, zone):
    """What an English message says for the deadline stated (ISO 8601 UTC):
    its last second in zone, '29 November 2026' and '8:41:54' (a deadline at
    a local midnight ends the day before: its date, and '11:59')."""
    try:
        dt = datetime.datetime.fromisoformat(stated.replace('Z', '+00:00'))
    except (ValueError, AttributeError):
        return None
    if ZoneInfo is None or dt.tzinfo is None:
        return None
    local = dt.astimezone(ZoneInfo(zone))
    if local.time() == datetime.time(0):
        last = local - datetime.timedelta(minutes=1)
        clock = '%d:%02d' % ((last.hour - 1) % 12 + 1, last.minute)
    else:
        last = (dt - datetime.timedelta(microseconds=1)).astimezone(ZoneInfo(zone))
        clock = '%d:%02d:%02d' % ((last.hour - 1) % 12 + 1, last.minute, last.second)
    return ['%d %s %d' % (last.day, last.strftime('%B'), last.year), clock]


# ---------------------------------------------------------------------------
# Policies: what a reload may switch between.

def random_policy(rng, wild=True):
    """One policy (DESIGN section 5 keys) with durations of seconds; a wild
    one may hold a reminder offset longer than the period (promise 3 says
    what that means; the product may refuse such a file on reload)."""
    # Now and then a period of a day: nobody is suspended under it within a
    # history, but its deadlines must fall at a midnight of email.timezone.
    confirm = rng.choice([3, 4, 5, 6, 3, 4, 5, 6, 86400])
    rem = rng.choice([[], [], ['2 seconds'], ['2 seconds', '1 second']]
                     + ([['%d seconds' % (confirm + 2)]] if wild else []))
    return {
        'inactive_after': '%d seconds' % rng.choice([5, 6, 8]),
        'never_active_after': rng.choice(['', '7 seconds', '10 seconds']),
        'min_account_age': '%d seconds' % rng.choice([0, 2, 4]),
        'confirm_within': '1 day' if confirm == 86400 else '%d seconds' % confirm,
        'reminders': rem,
        'erase_after': rng.choice(['', '', '3 seconds', '6 seconds']),
        'erase_columns': ['email'],
    }


class Policy:
    """A policy in force from t_from until t_to (None: still in force)."""

    def __init__(self, d, t_from):
        self.d = d
        self.t_from = t_from
        self.t_to = None
        self.passes_after = set()       # last_pass_at values seen after t_from
        self.applied = None             # when a pass that began after t_from was seen done
        self.inactive = seconds(d['inactive_after'])
        self.never = seconds(d['never_active_after']) if d['never_active_after'] else None
        self.min_age = seconds(d['min_account_age'])
        self.confirm = seconds(d['confirm_within'])
        self.reminders = sorted((seconds(r) for r in d['reminders']), reverse=True)
        self.erase = seconds(d['erase_after']) if d['erase_after'] else None

    def __repr__(self):
        return 'Policy(%s)' % json.dumps(self.d, sort_keys=True)


# ---------------------------------------------------------------------------
# The model of one source row: every version the driver committed.

class Version:
    __slots__ = ('t_start', 't_done', 'exists', 'billing', 'plan', 'created', 'la', 'exempt')

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def copy(self, **kw):
        v = Version(**{k: getattr(self, k) for k in self.__slots__})
        for k, x in kw.items():
            setattr(v, k, x)
        return v


class Sub:
    def __init__(self, sid):
        self.sid = sid
        self.versions = [Version(t_start=0, t_done=0, exists=False, billing=None, plan='basic',
                                 created=None, la=None, exempt=False)]
        self.tokens = {}            # token -> cycle, as captured from payloads or webhook bodies
        self.used_tokens = set()
        self.due_since = None
        self.leaves = []            # [t_done, reason, reported]
        self.deleted_at = None

    @property
    def cur(self):
        return self.versions[-1]

    def candidates(self, t_lo, t_hi):
        """Versions a statement whose snapshot lies in [t_lo, t_hi] may have seen."""
        out = []
        last_before = None
        for v in self.versions:
            if v.t_done <= t_lo:
                last_before = v
            elif v.t_start < t_hi:
                out.append(v)
        return ([last_before] if last_before else []) + out


def left_reason(v):
    """Why a version is out of the lifecycle (promise 5), or None."""
    if not v.exists:
        return 'deleted'
    if v.billing != 'active':
        return 'billing ' + str(v.billing)
    if v.plan == 'staff':
        return 'ineligible'
    if v.exempt:
        return 'exempt'
    return None


def left_since(sub, t):
    """Has the subscriber been out of the lifecycle without a break since t?"""
    before = [v for v in sub.versions if v.t_done <= t]
    after = [v for v in sub.versions if v.t_done > t]
    return bool(before) and all(left_reason(v) for v in before[-1:] + after)


def requestable(v, pol, t):
    """Does version v satisfy the Request rule of section 1 at time t?"""
    if left_reason(v) is not None or v.created is None:
        return False
    if v.created > t - pol.min_age:
        return False
    if v.la is not None:
        return v.la <= t - pol.inactive
    return pol.never is not None and v.created <= t - pol.never


# ---------------------------------------------------------------------------
# A history: its seed, its environment and its steps.

FORCE_COLUMN = None     # scripts/model --column: every history uses this activity column type


def generate_env(rng, instances, features):
    env = {
        'column_type': rng.choice(['timestamptz', 'timestamptz', 'timestamp', 'date']),
        'source_zone': rng.choice(SOURCE_ZONES),
        'db_zone': rng.choice(SESSION_ZONES),
        'instances': instances,
        'policy': random_policy(rng, wild=False),
        'population': [],
    }
    if env['column_type'] != 'timestamptz' and not features.get('source.timezone'):
        env['column_type'] = 'timestamptz'    # promise 2's refusal is probed once, apart
    if FORCE_COLUMN:
        env['column_type'] = FORCE_COLUMN
    for sid in range(10, 10 + rng.randint(12, 24)):
        env['population'].append(random_row(rng, sid))
    # How messages go out: the outbox read by the application's mailer, a
    # webhook whose receiver refuses everything for a few subscribers (their
    # messages die after the retries), or mail through a real SMTP server
    # that refuses those subscribers' addresses.
    env['delivery'] = rng.choice(['outbox', 'outbox', 'webhook', 'email'])
    env['refused'] = sorted(rng.sample([r['sid'] for r in env['population']], 2))
    # Sometimes a crowd: many subscribers inactive for long, asked and
    # suspended in small batches, so that passes take long enough for a
    # pause or a reload to land in the middle of one (promise 7).
    env['crowd'] = rng.choice([0, 0, 0, 300, 1000])
    env['email_zone'] = rng.choice(EMAIL_ZONES)
    return env


def random_row(rng, sid):
    created = rng.choice([0, 1, 3, 20, 400 * 86400])
    la = rng.choice([None, 0, 2, 9, 30, 40 * 86400])
    return {'sid': sid, 'created_ago': created, 'active_ago': la,
            'billing': rng.choice(['active'] * 6 + ['past_due']),
            'plan': rng.choice(['basic'] * 8 + ['staff'])}


class Generator:
    """Draws the next step from the seed alone. A step names subscribers and
    kinds, never row ids or tokens: those are looked up when the step runs.
    The generator never looks at what the product did, so a seed always
    yields the same steps (--seed replays it exactly, up to the timing of
    the processes), and a shrunk history does the same things to the same
    people."""

    def __init__(self, rng, env, features):
        self.rng = rng
        self.env = env
        self.features = features
        self.sids = [row['sid'] for row in env['population']]
        self.next_sid = 10 + len(env['population'])
        self.cluster_paused = False
        self.bounced_sids = []
        self.n = 0

    def step(self, run=None):
        r = self.rng
        sids = self.sids
        self.n += 1
        crowd = self.env.get('crowd') or 0
        # A crowd's first pass is long: a brake pulled during it is what
        # promise 7 is about.
        if crowd and self.n <= 12 and r.random() < 0.2:
            if self.cluster_paused or r.random() < 0.5:
                st = self._cluster_pause()
            else:
                st = {'op': 'sig_pause', 'i': r.randrange(self.env['instances'])}
            st['dt'] = r.choice([0.2, 0.5, 1.0])
            return st

        def pick(xs=None):
            return r.choice(xs or sids)
        ops = [
            (10, lambda: {'op': 'ack', 'sid': None}),
            (5, lambda: {'op': 'ack', 'sid': pick()}),
            (8, lambda: {'op': 'activity', 'sid': pick(), 'kind': r.choice(
                ['current', 'late', 'old', 'current', 'late']), 'lag': r.choice([1, 2, 3, 5]),
                'zone': r.choice(SESSION_ZONES)}),
            (3, lambda: {'op': 'billing', 'sid': pick(), 'value': r.choice(['cancelled', 'past_due'])}),
            (3 if crowd else 0, lambda: {'op': 'activity', 'sid': 100000 + r.randrange(max(crowd, 1)),
                                         'kind': 'current', 'lag': 0, 'zone': 'UTC'}),
            (4, lambda: {'op': 'billing', 'sid': pick(), 'value': 'active'}),
            (2, lambda: {'op': 'insert', 'row': random_row(r, self._new_sid())}),
            (1, lambda: {'op': 'delete', 'sid': pick()}),
            (2, lambda: {'op': 'plan', 'sid': pick(), 'value': r.choice(['staff', 'basic', 'basic'])}),
            (2, lambda: {'op': 'exempt', 'sid': pick()}),
            (2, lambda: {'op': 'unexempt', 'sid': pick()}),
            (8, lambda: {'op': 'answer', 'sid': pick(), 'action': r.choice(['keep', 'pause', 'keep']),
                         'variant': r.choice(['current', 'current', 'current', 'replay', 'forged'])}),
            (2, self._cluster_pause),
            (2, lambda: {'op': 'sig_pause' if r.random() < 0.5 else 'sig_resume',
                         'i': r.randrange(self.env['instances'])}),
            (2, lambda: {'op': 'reload', 'policy': random_policy(r)}),
            (1, lambda: {'op': 'kill', 'i': r.randrange(self.env['instances'])}),
            (4, lambda: {'op': 'start', 'i': r.randrange(self.env['instances'])}),
            (3, lambda: self._bounce(pick())),
            (2, lambda: {'op': 'resend', 'sid': pick(self.bounced_sids[-3:]) if self.bounced_sids
                         and r.random() < 0.7 else pick()}),
        ]
        total = sum(w for w, _ in ops)
        x = r.uniform(0, total)
        for w, f in ops:
            x -= w
            if x <= 0:
                st = f()
                break
        else:
            st = ops[0][1]()
        st['dt'] = r.choice([0.02, 0.05, 0.1, 0.2, 0.4])
        return st

    def _bounce(self, sid):
        # A bounce reported by the mailer (dormant.bounced) or by an operator
        # (dormantctl bounced); a resend is most often of someone who bounced.
        self.bounced_sids.append(sid)
        return {'op': 'bounce', 'sid': sid, 'via': self.rng.choice(['sql', 'sql', 'ctl'])}

    def _cluster_pause(self):
        self.cluster_paused = not self.cluster_paused
        return {'op': 'ctl_pause' if self.cluster_paused else 'ctl_resume'}

    def _new_sid(self):
        self.next_sid += 1
        self.sids.append(self.next_sid - 1)
        return self.next_sid - 1


def describe_env(seed, instances, features):
    """What a seed sets up before its first step, in one line."""
    env = generate_env(random.Random(seed), instances, features)
    p = env['policy']
    rows = env['population']
    return ('[%s delivery, email zone %s, activity column %s in %s, server zone %s, %d subscribers (%d never active, '
            '%d inactive for 30 s or more)%s, policy inactive %s, never %r, min age %s, confirm %s, '
            'reminders %s, erase %r]' % (
                env['delivery'], env['email_zone'], env['column_type'], env['source_zone'], env['db_zone'],
                len(rows),
                sum(1 for r in rows if r['active_ago'] is None),
                sum(1 for r in rows if r['active_ago'] is not None and r['active_ago'] >= 30),
                ', a crowd of %d inactive for 40 days' % env['crowd'] if env.get('crowd') else '',
                p['inactive_after'], p['never_active_after'], p['min_account_age'], p['confirm_within'],
                p['reminders'], p['erase_after']))


def describe(i, st):
    rest = {k: v for k, v in st.items() if k not in ('op', 'dt')}
    if st['op'] == 'reload':
        p = st['policy']
        rest = {'confirm': p['confirm_within'], 'reminders': p['reminders'],
                'inactive': p['inactive_after'], 'never': p['never_active_after'],
                'min_age': p['min_account_age'], 'erase': p['erase_after']}
    return '#%d %s %s (then %.2fs)' % (i, st['op'], json.dumps(rest, sort_keys=True), st['dt'])


# ---------------------------------------------------------------------------
# The webhook receiver of webhook histories.

class Sink:
    """tests/e2e/webhook_sink.py's receiver, answering by subscriber: 500
    for the refused ones, 200 for everyone else; it keeps every request with
    its wall-clock arrival, subscriber and body (the link comes from there)."""

    def __init__(self, secret_path, refused):
        import webhook_sink
        outer = self
        self.arrivals = []      # (time, subscriber, type, body json, status)
        self.refused = set(refused)

        class S(webhook_sink.WebhookSink):
            def _handle(self, h, body):
                try:
                    doc = json.loads(body)
                    sid = int(doc['data']['subscriber_id'])
                    typ = doc.get('type')
                except (ValueError, KeyError, TypeError):
                    doc, sid, typ = None, None, None
                status = 500 if sid in outer.refused else 200
                msg_id = h.headers.get('webhook-id') or ''
                self.script(msg_id, [status])
                oid = int(msg_id[4:]) if re.fullmatch(r'msg_\d+', msg_id) else None
                outer.arrivals.append((now(), sid, typ, doc, status, oid))
                try:
                    super()._handle(h, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass    # the instance was killed while it waited for the answer
        self.sink = S(webhook_sink.read_whsec(secret_path))

    @property
    def url(self):
        return self.sink.url

    def close(self):
        self.sink.close()


class MailSink:
    """A real SMTP server (Debian's aiosmtpd, as tests/e2e uses it) with
    model_smtp.Sink: 550 for the refused subscribers' addresses, every
    other message logged with its arrival time (read back by arrivals())."""

    def __init__(self, tmp, refused):
        import socket
        self.port = harness.free_port()
        self.path = os.path.join(tmp, 'mail.jsonl')
        self.offset = 0
        env = dict(os.environ, MODEL_SMTP_LOG=self.path, MODEL_SMTP_REFUSED=','.join(refused),
                   PYTHONPATH=HERE + os.pathsep + os.environ.get('PYTHONPATH', ''))
        self.out = open(os.path.join(tmp, 'smtpd.log'), 'wb')
        self.proc = subprocess.Popen(['/usr/bin/python3', '-m', 'aiosmtpd', '-n', '-l',
                                      '127.0.0.1:%d' % self.port, '-c', 'model_smtp.Sink'],
                                     stdout=self.out, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        t_end = now() + 30
        while True:
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or now() > t_end:
                    raise RuntimeError('aiosmtpd did not start on port %d' % self.port)
                time.sleep(0.05)

    @property
    def url(self):
        return 'smtp://127.0.0.1:%d' % self.port

    def arrivals(self):
        """The messages that arrived since the last call."""
        try:
            with open(self.path) as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind('\n') + 1
        self.offset += len(data[:end].encode())
        return [json.loads(line) for line in data[:end].splitlines() if line]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def address_of(sid):
    """The only address the driver ever gives subscriber sid."""
    return ('crowd%d@example.com' if sid >= 100000 else 'user%d@example.com') % sid


# ---------------------------------------------------------------------------
# Product features, detected rather than assumed.

def probe_features(tmp, dsn):
    """Which of the features other engineers are adding exist in this build:
    config keys by dormantd --check-config, commands by dormantctl --help."""
    feats = {}
    base = copy.deepcopy(harness.BASE_CONFIG)
    base['database']['conninfo'] = dsn
    base['http']['listen'] = '127.0.0.1:1'
    base['http']['public_url'] = 'http://127.0.0.1:1'
    base['log']['destination'] = os.path.join(tmp, 'probe.log')
    secret = os.path.join(tmp, 'webhook.secret')
    if not os.path.exists(secret):
        with open(secret, 'w') as f:
            f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
    for key, value in [('source.timezone', 'UTC'), ('limits.sweep_period', '5 seconds'),
                       ('email.timezone', 'UTC'), ('limits.keep_messages', '90 days')]:
        cfg = copy.deepcopy(base)
        harness.apply_override(cfg, key, value)
        path = os.path.join(tmp, 'probe.conf')
        with open(path, 'w') as f:
            f.write(harness.render_config(cfg))
        r = subprocess.run([harness.DORMANTD, '--check-config', '-c', path],
                           capture_output=True, text=True, timeout=30)
        feats[key] = r.returncode == 0
    r = subprocess.run([harness.DORMANTCTL, '--help'], capture_output=True, text=True, timeout=30)
    feats['ctl bounced'] = 'bounced' in (r.stdout + r.stderr)
    feats['ctl resend'] = 'resend' in (r.stdout + r.stderr)
    return feats


# ---------------------------------------------------------------------------
# One run of a history against the real product.

class Run:
    def __init__(self, seed, env, features, tmp, log=print, stop_on=None):
        self.seed = seed
        self.env = env
        self.features = dict(features)
        self.tmp = tmp
        self.say = log
        self.stop_on = stop_on          # a promise label: stop at its first violation
        self.subs = {}
        self.violations = []
        self._reported = set()
        self.procs = [None] * env['instances']
        self.proc_log = [[] for _ in range(env['instances'])]   # [t_start, t_end]
        self.sig_paused = [None] * env['instances']            # since when, or None
        self.cluster_paused = False
        self.cluster_pauses = []        # [t_from, t_to or None]
        self.sig_pauses = [[] for _ in range(env['instances'])]
        self.open_since = None          # guards open and some instance up, since
        self.policies = []
        self.last_event = 0
        self.ev_ids = set()
        self.dlv_events = {}            # (sid, cycle, type or '*') -> delivered events
        self.dlv_rows = {}              # (sid, cycle, type) -> delivered rows checked against them
        self.dlv_pending = set()        # delivered requests and reminders not checked yet
        self.log_ids = set()
        self.snap_xmin = 0              # pg_current_snapshot()'s xmin at the last look
        self.events = []
        self.ev_by_sid = {}             # subscriber -> their events, in order
        self.ob_by_sid = {}             # subscriber -> their outbox rows
        self.checked_upto = 0           # events[:checked_upto] went through check_event
        self.outbox = {}                # id -> dict (rows deleted by dormant stay here)
        self.accounts = {}
        self.deadline_seen = {}         # (sid, cycle) -> latest deadline observed (of the current delivery)
        self.deadline_dlv = {}          # (sid, cycle) -> account.delivered_at that deadline belongs to
        self.deadline_checked = {}      # (sid, cycle) -> the deadline check_deadline_unit last saw
        self.left_pending = {}          # (sid, cycle) -> first time seen out of pending
        self.bounced = {}               # outbox id -> (t0, t1): the bounce committed in between
        self.stated = {}                # outbox id -> deadlines stated in what was delivered
        self.writes = []                # (t_done, instant) of every activity value written
        self.last_log = 0
        self.flips = {}                 # xid -> [billing log rows]
        self.ports = []
        self.step_no = -1
        self.dsn = None
        self.db = None
        self.sink = None
        self.mail = None
        self.mailed = {}                # outbox id -> arrival times of its mail
        self.mail_texts = []            # (outbox id, text part) of requests and reminders, to check
        self.arrivals_seen = 0
        self.up_since = None            # some instance up without a break, since
        self.live_since = None          # and a pass possible: a killed leader's lease has run out
        self.passes = []                # (start, end) of the passes seen done (control.last_pass_*)
        self.last_kill = 0.0
        self.suspensions = []           # suspension events without an answer

    # -- reporting ------------------------------------------------------

    def violate(self, promise, sid, text, key=None):
        key = key or (promise, sid, text)
        if key in self._reported:
            return
        self._reported.add(key)
        v = {'promise': promise, 'sid': sid, 'step': self.step_no, 'text': text, 'at': now()}
        self.violations.append(v)
        n = sum(1 for x in self.violations if x['promise'] == promise)
        if n <= 3:
            self.say('VIOLATION %s (subscriber %s) at step #%d (%s), seed %s: %s'
                     % (promise, sid, self.step_no, iso(v['at']), self.seed, text))
        elif n == 4:
            self.say('  (further violations of promise %s in this history are counted, not printed)'
                     % promise)
        if sid is not None:
            # The subscriber's story as the model saw it, kept beside the
            # daemons' logs (scripts/model --keep).
            with open(os.path.join(self.tmp, 'violations.txt'), 'a') as f:
                f.write('%s subscriber %s at step #%d: %s\n' % (promise, sid, self.step_no, text))
                for e in self.ev_by_sid.get(sid, []):
                    f.write('  event %d %s %s cycle %s %s %s\n' % (e['id'], iso(e['at']), e['kind'], e['cycle'],
                                                                 e['actor'], json.dumps(e['detail'])))
                for r in self.ob_by_sid.get(sid, []):
                    f.write('  outbox %d %s cycle %s created %s delivered %s dead %s bounced %s\n' % (
                        r['id'], r['type'], r['cycle'], iso(r['created']), iso(r['delivered']),
                        iso(r['dead']), self.bounced.get(r['id'])))
        if self.stop_on and promise == self.stop_on:
            raise Violation(promise)

    # -- setup ----------------------------------------------------------

    def q(self, sql, params=None):
        with self.db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description is not None else None

    def setup(self):
        env = self.env
        name = 'model_%d_%s' % (os.getpid(), secrets.token_hex(4))
        harness.psql(harness.admin_dsn(), 'CREATE DATABASE "%s"' % name)
        self.dbname = name
        self.dsn = harness.admin_dsn(name)
        harness.psql(self.dsn, 'ALTER DATABASE "%s" SET timezone = %%s' % name, (env['db_zone'],))
        self.db = psycopg2.connect(self.dsn, application_name='model-driver')
        self.db.autocommit = True
        self.zone = None
        col = env['column_type']
        tz = env['source_zone'].replace("'", "''")
        self.interp_col = {'timestamptz': '{c}',
                           'timestamp': "({c} AT TIME ZONE '%s')" % tz,
                           'date': "(({c} + 1)::timestamp AT TIME ZONE '%s')" % tz}[col]
        self.store_val = {'timestamptz': '%s::timestamptz',
                          'timestamp': "(%%s::timestamptz AT TIME ZONE '%s')" % tz,
                          'date': "(%%s::timestamptz AT TIME ZONE '%s')::date" % tz}[col]
        self.q('''CREATE TABLE public.subscribers (
            id bigint PRIMARY KEY, email text, created_at timestamptz NOT NULL,
            last_activity_at %s, locale text, plan text NOT NULL DEFAULT 'basic',
            billing_status text NOT NULL DEFAULT 'active')''' % col)
        self.q('CREATE SCHEMA model')
        self.q('''CREATE TABLE model.log (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(),
            xid bigint, sid bigint, old_billing text, new_billing text, old_email boolean,
            new_email boolean, la timestamptz, app text)''')
        la_new = self.interp_col.format(c='NEW.last_activity_at')
        self.q('''CREATE FUNCTION model.trg() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF current_setting('application_name') <> 'model-driver' THEN
                INSERT INTO model.log (xid, sid, old_billing, new_billing, old_email, new_email, la, app)
                VALUES (txid_current() %% 4294967296, NEW.id, OLD.billing_status, NEW.billing_status,
                        OLD.email IS NOT NULL, NEW.email IS NOT NULL, %s,
                        current_setting('application_name'));
              END IF;
              RETURN NEW;
            END $$''' % la_new)
        self.q('CREATE TRIGGER model_log AFTER UPDATE ON public.subscribers'
               ' FOR EACH ROW EXECUTE FUNCTION model.trg()')
        for w in WATCHERS:
            self.insert_row({'sid': w, 'created_ago': 400 * 86400, 'active_ago': self.watcher_lag(w),
                             'billing': 'active', 'plan': 'basic'})
        for row in env['population']:
            self.insert_row(row)
        if env.get('crowd'):
            self.insert_crowd(env['crowd'])
        self.ports = [harness.free_port() for _ in range(env['instances'])]
        if env['delivery'] == 'webhook':
            self.sink = Sink(os.path.join(self.tmp, 'webhook.secret'), env['refused'])
        elif env['delivery'] == 'email':
            self.mail = MailSink(self.tmp, [address_of(sid) for sid in env['refused']])
        if not self.set_policy(env['policy']):
            raise RuntimeError('the product refuses the history\'s first policy')
        r = self.ctl('migrate', '--create-indexes')
        if r.returncode != 0:
            raise RuntimeError('migrate failed: %s' % r.stderr)
        kinds = self.q("SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
                       " WHERE c.conrelid = 'dormant.event'::regclass AND c.contype = 'c'")
        text = ' '.join(k[0] for k in kinds or [])
        self.event_kinds = set(re.findall(r"'([a-z_]+)'", text)) if 'kind' in text else None
        self.features['bounced()'] = bool(self.q(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'dormant' AND p.proname = 'bounced'"))
        for i in range(env['instances']):
            self.start(i)

    def config_path(self, i):
        return os.path.join(self.tmp, 'dormant.%d.conf' % i)

    def render(self, i, policy):
        cfg = copy.deepcopy(harness.BASE_CONFIG)
        cfg['database']['conninfo'] = self.dsn
        cfg['http']['listen'] = '127.0.0.1:%d' % self.ports[i]
        cfg['http']['public_url'] = 'http://127.0.0.1:%d' % self.ports[0]
        cfg['log']['destination'] = os.path.join(self.tmp, 'dormantd.%d.log' % i)
        cfg['webhook']['secret_file'] = os.path.join(self.tmp, 'webhook.secret')
        cfg['source']['eligible'] = "s.plan <> 'staff'"
        cfg['policy'] = copy.deepcopy(policy)
        cfg['limits']['max_activity_lag'] = '%d seconds' % MAX_ACTIVITY_LAG
        cfg['limits']['max_backlog_fraction'] = 1.0
        if self.features.get('source.timezone'):
            cfg['source']['timezone'] = self.env['source_zone']
        if self.features.get('limits.sweep_period'):
            cfg['limits']['sweep_period'] = '5 seconds'
        if self.features.get('email.timezone'):
            cfg['email']['timezone'] = self.env['email_zone']
        if self.env.get('crowd'):
            cfg['limits']['batch_size'] = 25
        if self.mail is not None:
            cfg['email']['smtp_url'] = self.mail.url
            cfg['email']['starttls'] = 'never'
            cfg['email']['retry'] = ['1 second', '1 second']
        if self.sink is not None:
            cfg['webhook']['url'] = self.sink.url
            cfg['webhook']['retry'] = ['1 second', '1 second']
            cfg['webhook']['timeout'] = '5 seconds'
        return harness.render_config(cfg)

    def set_policy(self, d):
        """Write every instance's file with policy d, as an operator does
        before a reload; a file that dormantd --check-config refuses is not
        written (the product's own validation, not a promise), and the step
        changes nothing. Returns whether the policy changed."""
        texts = [self.render(i, d) for i in range(self.env['instances'])]
        probe = self.config_path(0) + '.check'
        with open(probe, 'w') as f:
            f.write(texts[0])
        r = subprocess.run([harness.DORMANTD, '--check-config', '-c', probe],
                           capture_output=True, text=True, timeout=30)
        os.unlink(probe)
        if r.returncode != 0:
            self.say('  reload skipped: the product refuses this policy: %s' % r.stderr.strip())
            return False
        for i, text in enumerate(texts):
            tmpf = self.config_path(i) + '.new'
            with open(tmpf, 'w') as f:
                f.write(text)
            os.replace(tmpf, self.config_path(i))
        t = now()
        if self.policies:
            self.policies[-1].t_to = t
        self.policies.append(Policy(d, t))
        return True

    def policies_at(self, t, slack=3.0):
        """Policies that may have been in force at t: a reload applies from the
        next pass, and a pass in flight keeps its statements, so a policy
        stays possible until a pass that began after the next reload was seen
        done (or, for the liveness checks, slack seconds after the reload)."""
        out = []
        for k, p in enumerate(self.policies):
            nxt = self.policies[k + 1] if k + 1 < len(self.policies) else None
            if p.t_from - 0.05 > t:
                continue
            if nxt is not None:
                end = nxt.applied if nxt.applied is not None else None
                if slack == 0 and end is None:
                    end = p.t_to
                if end is not None and t > end:
                    continue
            out.append(p)
        return out or self.policies[:1]

    def poll(self):
        return 1.0

    def feed_stale(self, t):
        """Section 2's stale-feed guard as the source stands: the newest
        activity not later than t is older than limits.max_activity_lag
        (with 5 s of slack, so that a guard about to trip counts as
        tripped). A date column reads today's activity as tomorrow's start,
        later than now: such a feed is fresh only through older writes."""
        newest = None
        for sub in self.subs.values():
            v = sub.cur
            if v.exists and v.la is not None and v.la <= t and (newest is None or v.la > newest):
                newest = v.la
        return newest is None or newest < t - MAX_ACTIVITY_LAG + 5.0

    def passed_since(self, t, n=2):
        """Have n passes that began after t been seen done? The liveness
        checks wait for them besides their time: on a loaded machine a pass
        over a crowd takes seconds, and what a pass does is due once a pass
        ran after the change (two: the first may have read its snapshot
        just before the change committed)."""
        return sum(1 for start, _ in self.passes if start > t) >= n

    def email_zone(self):
        return self.env['email_zone'] if self.features.get('email.timezone') else 'UTC'

    def stated_deadlines(self, r):
        """The deadlines a delivered message stated: what the webhook
        receiver or the outbox's mailer got; for mail, the payload the
        delivery left (the deadline it was sent with)."""
        got = list(self.stated.get(r['id'], []))
        if self.env['delivery'] == 'email':
            d = ((r.get('payload') or {}).get('data') or {}).get('deadline')
            if d:
                got.append(d)
        return got

    def sweep(self):
        return 5.0 if self.features.get('limits.sweep_period') else 86400.0

    def ctl(self, *args):
        return subprocess.run([harness.DORMANTCTL, '-c', self.config_path(0)] + list(args),
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, USER='model'))

    # -- processes ------------------------------------------------------

    def start(self, i):
        p = self.procs[i]
        if p is not None and p.poll() is None:
            return
        err = open(os.path.join(self.tmp, 'dormantd.%d.stderr' % i), 'ab')
        self.procs[i] = subprocess.Popen([harness.DORMANTD, '-c', self.config_path(i)],
                                         stdout=err, stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        err.close()
        self.wait_signals_held(self.procs[i])
        self.proc_log[i].append([now(), None])
        self.sig_paused[i] = None
        if self.sig_pauses[i] and self.sig_pauses[i][-1][1] is None:
            self.sig_pauses[i][-1][1] = now()
        self.expected_exit = getattr(self, 'expected_exit', set())
        self.expected_exit.discard(i)

    @staticmethod
    def wait_signals_held(p, timeout=10.0):
        """An operator signals a daemon that runs: until the process's main()
        holds SIGHUP, SIGUSR1 and SIGUSR2 (blocked or caught, as
        /proc/PID/status shows), it is still being loaded, and a signal's
        default action would end it whatever the product does."""
        want = (1 << (signal.SIGHUP - 1)) | (1 << (signal.SIGUSR1 - 1)) | (1 << (signal.SIGUSR2 - 1))
        t_end = now() + timeout
        while now() < t_end and p.poll() is None:
            try:
                with open('/proc/%d/status' % p.pid) as f:
                    masks = dict(line.split(':', 1) for line in f if line.startswith(('SigBlk', 'SigCgt')))
            except (OSError, ValueError):
                return
            held = int(masks.get('SigBlk', '0'), 16) | int(masks.get('SigCgt', '0'), 16)
            if held & want == want:
                return
            time.sleep(0.002)

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p is None or p.poll() is not None:
            return
        self.expected_exit = getattr(self, 'expected_exit', set())
        self.expected_exit.add(i)
        self.last_kill = now()
        os.kill(p.pid, sig)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        self.proc_log[i][-1][1] = now()
        if self.sig_pauses[i] and self.sig_pauses[i][-1][1] is None:
            self.sig_pauses[i][-1][1] = now()
        self.sig_paused[i] = None

    def alive(self, i):
        p = self.procs[i]
        return p is not None and p.poll() is None

    def teardown(self):
        for i in range(len(self.procs)):
            if self.alive(i):
                self.kill(i)
        if self.db is not None:
            self.db.close()
        if self.sink is not None:
            self.sink.close()
        if self.mail is not None:
            self.mail.close()
        try:
            harness.psql(harness.admin_dsn(), 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.dbname)
        except Exception as e:  # noqa: BLE001
            self.say('cleanup: %s' % e)

    def log_tail(self, i, n=15):
        try:
            with open(os.path.join(self.tmp, 'dormantd.%d.stderr' % i), errors='replace') as f:
                err = f.read().splitlines()[-n:]
            with open(os.path.join(self.tmp, 'dormantd.%d.log' % i), errors='replace') as f:
                log = f.read().splitlines()[-n:]
        except FileNotFoundError:
            return ''
        return '\n'.join(log + err)

    # -- the driver's writes -------------------------------------------

    def write(self, sid, sql, params, change, zone=None):
        """Run one autocommit statement on the source as the application does
        and record the version it commits (change(version) -> new version, or
        None when the statement found no row)."""
        if zone and zone != self.zone:
            self.q('SET TIME ZONE %s', (zone,))
            self.zone = zone
        t0 = now()
        rows = self.q(sql, params)
        t1 = now()
        sub = self.subs.setdefault(sid, Sub(sid))
        v = change(sub.cur, rows)
        if v is not None:
            v.t_start, v.t_done = t0, t1
            sub.versions.append(v)
            if v.la is not None and (sub.versions[-2].la is None or v.la != sub.versions[-2].la):
                self.writes.append((t1, v.la))
            if left_reason(v) and not left_reason(sub.versions[-2]):
                sub.leaves.append([t1, left_reason(v), False])
        return rows

    def insert_row(self, row):
        sid = row['sid']
        t = now()
        created = t - row['created_ago']
        la = None if row['active_ago'] is None else t - row['active_ago']
        sql = ('INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale, plan,'
               ' billing_status) VALUES (%%s, %%s, to_timestamp(%%s), %s, %%s, %%s, %%s)'
               ' ON CONFLICT (id) DO NOTHING RETURNING %s'
               % (self.store_val.replace('%s::timestamptz', 'to_timestamp(%s)')
                  if la is not None else 'NULL::%s' % self.env['column_type'],
                  self.interp_col.format(c='last_activity_at')))
        params = [sid, 'user%d@example.com' % sid, created]
        if la is not None:
            params.append(la)
        params += ['en', row['plan'], row['billing']]

        def change(cur, rows):
            if not rows:
                return None
            return cur.copy(exists=True, billing=row['billing'], plan=row['plan'], created=created,
                            la=ts(rows[0][0]), exempt=cur.exempt if cur.exists else False)
        self.write(sid, sql, params, change)

    def insert_crowd(self, n):
        t0 = now()
        created, la = t0 - 400 * 86400, t0 - 40 * 86400
        rows = self.q('INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale,'
                      ' plan, billing_status) SELECT g, \'crowd\' || g || \'@example.com\', to_timestamp(%%s),'
                      ' %s, \'en\', \'basic\', \'active\' FROM generate_series(100000, 100000 + %%s - 1) g'
                      ' RETURNING id, %s' % (self.store_val.replace('%s::timestamptz', 'to_timestamp(%s)'),
                                             self.interp_col.format(c='last_activity_at')),
                      (created, la, n))
        t1 = now()
        for sid, la_i in rows:
            sub = self.subs.setdefault(sid, Sub(sid))
            sub.versions.append(sub.cur.copy(t_start=t0, t_done=t1, exists=True, billing='active',
                                             plan='basic', created=created, la=ts(la_i), exempt=False))
            self.writes.append((t1, ts(la_i)))

    def watcher_lag(self, sid):
        """A date column reads today's activity as the start of tomorrow,
        later than now(), which the stale-feed guard ignores: there, the
        second watcher's feed runs a day behind (yesterday reads as the
        start of today), as a real service's does."""
        return 86400 if self.env['column_type'] == 'date' and sid == WATCHERS[1] else 0

    def activity(self, sid, kind, lag, zone):
        t = now()
        if kind == 'current':
            val = t
        elif kind == 'late':
            val = t - lag
        else:
            val = t - lag * 86400 - 20
        if sid in WATCHERS:
            val = t - self.watcher_lag(sid)
        sql = ('UPDATE public.subscribers SET last_activity_at = GREATEST(last_activity_at, %s)'
               ' WHERE id = %%s RETURNING %s'
               % (self.store_val.replace('%s::timestamptz', 'to_timestamp(%s)'),
                  self.interp_col.format(c='last_activity_at')))

        def change(cur, rows):
            return cur.copy(la=ts(rows[0][0])) if rows else None
        self.write(sid, sql, (val, sid), change, zone=zone)

    def set_column(self, sid, column, value):
        def change(cur, rows):
            if not rows:
                return None
            return cur.copy(**{'billing' if column == 'billing_status' else 'plan': value})
        self.write(sid, 'UPDATE public.subscribers SET %s = %%s WHERE id = %%s RETURNING id' % column,
                   (value, sid), change)

    def delete(self, sid):
        def change(cur, rows):
            return cur.copy(exists=False) if rows else None
        self.write(sid, 'DELETE FROM public.subscribers WHERE id = %s RETURNING id', (sid,), change)
        if self.subs[sid].cur.exists is False:
            self.subs[sid].deleted_at = now()

    def exemption(self, sid, on):
        sub = self.subs.setdefault(sid, Sub(sid))
        t0 = now()
        r = self.ctl('exempt', str(sid), '--reason', 'model') if on else self.ctl('unexempt', str(sid))
        t1 = now()
        if r.returncode == 0:
            v = sub.cur.copy(exempt=on, t_start=t0, t_done=t1)
            sub.versions.append(v)
            if on and not left_reason(sub.versions[-2]) and left_reason(v):
                sub.leaves.append([t1, 'exempt', False])

    # -- the mailer, the page, the operator ------------------------------

    def capture_links(self):
        if self.sink is not None:
            arrivals = self.sink.arrivals[self.arrivals_seen:]
            self.arrivals_seen += len(arrivals)
            for (t, sid, typ, doc, status, oid) in arrivals:
                stated = ((doc or {}).get('data') or {}).get('deadline')
                if stated and status == 200 and oid is not None:
                    self.stated.setdefault(oid, []).append(stated)
                url = ((doc or {}).get('data') or {}).get('confirm_url')
                if url and sid is not None:
                    self.subs.setdefault(sid, Sub(sid)).tokens.setdefault(url.rsplit('/c/', 1)[-1], None)
                self.check_delivery_brake(t, sid, typ, self.outbox.get(oid, {}).get('created'))
        if self.mail is not None:
            for m in self.mail.arrivals():
                self.check_mail(m)
        for oid, row in self.outbox.items():
            url = ((row['payload'] or {}).get('data') or {}).get('confirm_url')
            if url:
                tok = url.rsplit('/c/', 1)[-1]
                self.subs.setdefault(row['sid'], Sub(row['sid'])).tokens.setdefault(tok, row['cycle'])

    def check_mail(self, m):
        """One message the SMTP server accepted: it names its outbox row
        (Message-ID), goes to the address of that row's subscriber and no
        one else's, carries the link the subscriber answers with, and
        started before no brake (the same allowance as a webhook's)."""
        t = m['t']
        mid = re.fullmatch(r'<dormant\.(\d+)@[^>]+>', m['message_id'].strip())
        if not mid:
            self.violate('email/message-id', None, 'a message whose Message-ID %r names no outbox row'
                         % m['message_id'])
            return
        oid = int(mid.group(1))
        row = self.outbox.get(oid)
        if row is None:
            self.observe()
            row = self.outbox.get(oid)
        if row is None:
            self.violate('email/unknown-row', None, 'a message for outbox %d, which the model never saw' % oid)
            return
        sid = row['sid']
        self.mailed.setdefault(oid, []).append(t)
        want = address_of(sid)
        if m['rcpt'] != [want] or want not in m['to']:
            self.violate('email/address', sid, '%s (outbox %d) mailed to %s (To: %s), not to the subscriber\'s '
                         'address' % (row['type'], oid, m['rcpt'], m['to']), key=('mail-to', oid))
        if row['type'] in ('confirmation.requested', 'confirmation.reminder'):
            self.mail_texts.append((oid, m['text']))
        for tok in re.findall(r'/c/([A-Za-z0-9_-]{20,})', m['text']):
            self.subs.setdefault(sid, Sub(sid)).tokens.setdefault(tok, row['cycle'])
        self.check_delivery_brake(t, sid, row['type'], row['created'])
        sub = self.subs.get(sid)
        if sub is not None and row['type'] in ('confirmation.requested', 'confirmation.reminder'):
            grace = self.poll() + 3.0
            for lv in sub.leaves:
                if (self.live_since is not None and t > max(lv[0], self.live_since) + grace
                        and self.passed_since(max(lv[0], self.live_since))
                        and left_since(sub, lv[0]) and row['created'] < lv[0]):
                    self.violate('5/mailed-after-leaving', sid, '%s (outbox %d) mailed at %s, %.1fs after they left (%s)'
                                 % (row['type'], oid, iso(t), t - lv[0], lv[1]), key=('mail-left', oid))
                    break

    def ack(self, sid):
        """The application's mailer, as the README's consumer: lock what is
        undelivered and not dead, keep the links, acknowledge each row.
        Webhook and email histories have no such mailer: the step does nothing."""
        if self.env['delivery'] != 'outbox':
            return
        self.observe()
        self.capture_links()
        self.db.autocommit = False
        try:
            with self.db.cursor() as cur:
                cur.execute('SELECT id, subscriber_id, payload FROM dormant.outbox'
                            ' WHERE delivered_at IS NULL AND dead_at IS NULL'
                            + ('' if sid is None else ' AND subscriber_id = %s')
                            + ' ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED',
                            None if sid is None else (sid,))
                rows = cur.fetchall()
                for oid, s, payload in rows:
                    stated = ((payload or {}).get('data') or {}).get('deadline')
                    if stated:
                        self.stated.setdefault(oid, []).append(stated)
                    url = ((payload or {}).get('data') or {}).get('confirm_url')
                    if url:
                        self.subs.setdefault(s, Sub(s)).tokens.setdefault(url.rsplit('/c/', 1)[-1], None)
                    cur.execute('UPDATE dormant.outbox SET delivered_at = now() WHERE id = %s', (oid,))
            self.db.commit()
        except psycopg2.Error as e:
            self.db.rollback()
            self.say('mailer: %s' % str(e).strip())
        finally:
            self.db.autocommit = True

    def answer(self, sid, action, variant):
        sub = self.subs.get(sid)
        if variant == 'forged' or sub is None:
            tok = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')
        elif variant == 'replay':
            if not sub.used_tokens:
                return
            tok = sorted(sub.used_tokens)[0]
        else:
            live = [t for t in sub.tokens if t not in sub.used_tokens]
            if not live:
                return
            tok = live[-1]
        port = self.ports[[i for i in range(len(self.ports)) if self.alive(i)][0]] \
            if any(self.alive(i) for i in range(len(self.ports))) else None
        if port is None:
            return
        before = self.last_event
        url = 'http://127.0.0.1:%d/c/%s' % (port, tok)
        req = urllib.request.Request(url, data=urllib.parse.urlencode({'action': action}).encode(),
                                     method='POST')
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except (urllib.error.URLError, OSError):
            return
        if status == 200 and variant == 'current':
            sub.used_tokens.add(tok)
        if variant != 'current' and status == 200:
            self.observe()
            self.violate('page/forged-or-replayed', sid, 'a %s link was honoured (HTTP 200)' % variant)
        if variant == 'current' and status == 200:
            self.observe()
            got = [e for e in self.ev_by_sid.get(sid, []) if e['id'] > before
                   and e['kind'] in ('confirmed', 'declined') and e['actor'] == 'subscriber']
            if not got:
                self.violate('page/no-event', sid, 'answer %s got 200 but no confirmed/declined event' % action)
            elif sub.tokens.get(tok) is not None and got[0]['cycle'] != sub.tokens[tok]:
                self.violate('page/wrong-cycle', sid, 'the link of cycle %s answered cycle %s'
                             % (sub.tokens[tok], got[0]['cycle']))

    def bounce(self, sid, via='sql'):
        """A bounce of the subscriber's last delivered request or reminder:
        reported by the mailer through dormant.bounced() (any cycle's row: a
        late report of an old message changes nothing) or by an operator
        through dormantctl bounced (the pending cycle's last one). Each row
        the call bounced is recorded with the window [t0, t1] in which the
        bounce committed, and the delivery time it undid (bounced() sets
        delivered_at back to NULL)."""
        if not (self.features.get('bounced()') or self.features.get('ctl bounced')):
            return
        if via == 'ctl' and not self.features.get('ctl bounced'):
            via = 'sql'
        if via == 'sql' and not self.features.get('bounced()'):
            via = 'ctl'
        self.observe()
        for oid, delivered in self.q('SELECT id, delivered_at FROM dormant.outbox WHERE subscriber_id = %s'
                                     ' AND delivered_at IS NOT NULL', (sid,)):
            if oid in self.outbox:
                self.outbox[oid]['was_delivered'] = ts(delivered)
        t0 = now()
        if via == 'sql':
            rows = self.q("SELECT id FROM dormant.outbox WHERE subscriber_id = %s AND delivered_at IS NOT NULL"
                          " AND type IN ('confirmation.requested', 'confirmation.reminder')"
                          " ORDER BY id DESC LIMIT 1", (sid,))
            if not rows:
                return
            self.q('SELECT dormant.bounced(%s, %s)', (rows[0][0], 'model bounce'))
        else:
            r = self.ctl('bounced', str(sid), '--reason', 'model')
            if r.returncode not in (0, 65):
                self.violate('bounce/ctl', sid, 'dormantctl bounced exited %d: %s'
                             % (r.returncode, r.stderr.strip()))
        t1 = now()
        self.note_bounces(sid, t0, t1)

    def note_bounces(self, sid, t0, t1):
        """Rows of sid whose bounce committed within [t0, t1]."""
        for oid, delivered, bounced_at in self.q(
                'SELECT id, delivered_at, bounced_at FROM dormant.outbox WHERE subscriber_id = %s'
                ' AND bounced_at IS NOT NULL', (sid,)):
            if oid in self.bounced:
                continue
            self.bounced[oid] = (t0, t1)
            row = self.outbox.get(oid)
            if row is None:
                self.observe()
                row = self.outbox.get(oid)
            if row is not None and row['delivered'] is None and row.get('was_delivered'):
                row['delivered'] = row['was_delivered']

    def resend(self, sid):
        """dormantctl resend: a new request row (a new id) in the same cycle
        with its "requested" event (detail resend_of), or a refusal (65)
        that writes nothing."""
        if not self.features.get('ctl resend'):
            return
        before = self.q('SELECT coalesce(max(id), 0) FROM dormant.event')[0][0]
        r = self.ctl('resend', str(sid))
        after = self.q("SELECT e.detail->>'outbox_id', o.id FROM dormant.event e LEFT JOIN dormant.outbox o"
                       " ON o.id = (e.detail->>'outbox_id')::bigint AND o.type = 'confirmation.requested'"
                       " WHERE e.id > %s AND e.subscriber_id = %s AND e.kind = 'requested'"
                       " AND e.detail ? 'resend_of'", (before, sid))
        if r.returncode == 0 and (len(after) != 1 or after[0][1] is None):
            self.violate('resend/new-row', sid, 'dormantctl resend exited 0 but wrote %s' % (
                'no requested event' if not after else 'events %s for rows %s' % (len(after), after)))
        elif r.returncode != 0 and after:
            self.violate('resend/refused-but-wrote', sid, 'dormantctl resend exited %d but wrote a request %s'
                         % (r.returncode, after))
        if r.returncode not in (0, 65):
            self.violate('resend/exit', sid, 'dormantctl resend exited %d: %s'
                         % (r.returncode, r.stderr.strip()))

    # -- one step -------------------------------------------------------

    def feed(self):
        for w in WATCHERS:
            self.activity(w, 'current', 0, None)

    def apply(self, st):
        op = st['op']
        sid = st.get('sid')
        if op == 'ack':
            self.ack(sid)
        elif op == 'activity':
            self.activity(sid, st['kind'], st['lag'], st['zone'])
        elif op == 'billing':
            self.set_column(sid, 'billing_status', st['value'])
        elif op == 'plan':
            self.set_column(sid, 'plan', st['value'])
        elif op == 'insert':
            self.insert_row(st['row'])
        elif op == 'delete':
            self.delete(sid)
        elif op == 'exempt':
            self.exemption(sid, True)
        elif op == 'unexempt':
            self.exemption(sid, False)
        elif op == 'answer':
            self.answer(sid, st['action'], st['variant'])
        elif op == 'bounce':
            self.bounce(sid, st.get('via', 'sql'))
        elif op == 'resend':
            self.resend(sid)
        elif op == 'ctl_pause':
            if not self.cluster_paused and self.ctl('pause', '--reason', 'model').returncode == 0:
                self.cluster_paused = True
                self.cluster_pauses.append([now(), None])
        elif op == 'ctl_resume':
            t = now()
            if self.cluster_paused and self.ctl('resume').returncode == 0:
                self.cluster_paused = False
                self.cluster_pauses[-1][1] = t
                self.open_since = None
        elif op in ('sig_pause', 'sig_resume'):
            i = st['i']
            if self.alive(i):
                self.procs[i].send_signal(signal.SIGUSR1 if op == 'sig_pause' else signal.SIGUSR2)
                t = now()
                if op == 'sig_pause' and self.sig_paused[i] is None:
                    self.sig_paused[i] = t
                    self.sig_pauses[i].append([t, None])
                elif op == 'sig_resume' and self.sig_paused[i] is not None:
                    self.sig_paused[i] = None
                    self.sig_pauses[i][-1][1] = t
                    self.open_since = None
        elif op == 'reload':
            if not self.set_policy(st['policy']):
                return
            for i in range(self.env['instances']):
                if self.alive(i):
                    self.procs[i].send_signal(signal.SIGHUP)
            self.open_since = None
        elif op == 'kill':
            self.kill(st['i'])
        elif op == 'start':
            if not self.alive(st['i']):
                self.start(st['i'])
                self.open_since = None
        else:
            raise ValueError(op)

    # -- observing ------------------------------------------------------

    def account_state(self, sid):
        a = self.accounts.get(sid)
        return a['state'] if a else None

    def observe(self):
        """Read what dormant wrote since the last look."""
        t_obs = now()
        # Ids come from sequences, so a transaction may commit a lower id
        # after a higher one was read: besides the ids above the last one
        # seen, read every row inserted by a transaction that was still
        # running at the last look (its xid is at least that snapshot's xmin).
        prev_xmin = self.snap_xmin
        self.snap_xmin = self.q('SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint'
                                ' % 4294967296')[0][0]
        for (eid, at, sid, kind, cycle, actor, detail, xid) in self.q(
                'SELECT id, at, subscriber_id, kind, cycle, actor, detail, xmin::text::bigint'
                ' FROM dormant.event WHERE id > %s OR xmin::text::bigint >= %s ORDER BY id',
                (self.last_event, prev_xmin)):
            if eid in self.ev_ids:
                continue
            self.ev_ids.add(eid)
            ev = {'id': eid, 'at': ts(at), 'sid': sid, 'kind': kind, 'cycle': cycle,
                  'actor': actor, 'detail': detail or {}, 'xid': xid, 'seen': t_obs}
            self.events.append(ev)
            if kind == 'delivered':
                typ = (detail or {}).get('type') if detail else '*'
                if typ in ('confirmation.requested', 'confirmation.reminder', '*'):
                    k = (sid, cycle, typ)
                    self.dlv_events[k] = self.dlv_events.get(k, 0) + 1
            lst = self.ev_by_sid.setdefault(sid, [])
            lst.append(ev)
            if len(lst) > 1 and lst[-2]['id'] > eid:
                lst.sort(key=lambda x: x['id'])
            self.last_event = max(self.last_event, eid)
        seen = set()
        for (oid, created, typ, sid, cycle, payload, delivered, dead) in self.q(
                'SELECT id, created_at, type, subscriber_id, cycle, payload, delivered_at, dead_at'
                ' FROM dormant.outbox'):
            seen.add(oid)
            row = self.outbox.get(oid)
            if row is None:
                row = self.outbox[oid] = {'id': oid, 'created': ts(created), 'type': typ, 'sid': sid,
                                          'cycle': cycle, 'payloads': [], 'delivered': None,
                                          'dead': None, 'gone': None}
                self.ob_by_sid.setdefault(sid, []).append(row)
            if payload is not None and (not row['payloads'] or row['payloads'][-1] != payload):
                row['payloads'].append(payload)
            row['payload'] = payload
            if delivered is not None:
                row['was_delivered'] = ts(delivered)
                if row['delivered'] is None and typ in ('confirmation.requested', 'confirmation.reminder'):
                    self.dlv_pending.add(oid)
            # A bounce sets delivered_at back to NULL: the row keeps the
            # delivery it undid (the bounce is in self.bounced).
            row['delivered'] = ts(delivered) if delivered is not None or oid not in self.bounced \
                else row.get('was_delivered')
            row['dead'] = ts(dead)
        for oid, row in self.outbox.items():
            if oid not in seen and row['gone'] is None:
                row['gone'] = t_obs
        last = self.q('SELECT last_pass_at, last_pass_ms FROM dormant.control')
        if last and last[0][0] is not None and (not self.passes or self.passes[-1][1] != ts(last[0][0])):
            self.passes.append((ts(last[0][0]) - (last[0][1] or 0) / 1000.0, ts(last[0][0])))
        last = ts(last[0][0]) if last and last[0][0] is not None else None
        for p in self.policies[1:]:
            if p.applied is None and last is not None and last > p.t_from:
                p.passes_after.add(last)
                if len(p.passes_after) >= 2:
                    p.applied = t_obs
        accounts = {}
        for (sid, state, cycle, req, dlv, dl) in self.q(
                'SELECT subscriber_id, state, cycle, requested_at, delivered_at, deadline'
                ' FROM dormant.account'):
            accounts[sid] = {'state': state, 'cycle': cycle, 'requested': ts(req),
                             'delivered': ts(dlv), 'deadline': ts(dl)}
            if state == 'pending' and dl is not None:
                k = (sid, cycle)
                # The latest deadline of the cycle's current delivery: a
                # bounce and a resend start the notice again under the
                # policy in force at the new delivery.
                if dlv is not None and self.deadline_dlv.get(k) != dlv:
                    self.deadline_dlv[k] = dlv
                    self.deadline_seen.pop(k, None)
                self.deadline_seen[k] = max(self.deadline_seen.get(k, 0), ts(dl))
                if dlv is not None and self.deadline_checked.get(k) != dl:
                    self.deadline_checked[k] = dl
                    self.check_deadline_unit(sid, cycle, ts(dlv), dl)
            old = self.accounts.get(sid)
            if old and old['state'] == 'pending' and (state != 'pending' or cycle != old['cycle']):
                self.left_pending.setdefault((sid, old['cycle']), t_obs)
        self.accounts = accounts
        for (lid, at, xid, sid, ob, nb, oe, ne, la, app) in self.q(
                'SELECT id, at, xid, sid, old_billing, new_billing, old_email, new_email, la, app'
                ' FROM model.log WHERE id > %s OR xid >= %s ORDER BY id', (self.last_log, prev_xmin)):
            if lid in self.log_ids:
                continue
            self.log_ids.add(lid)
            self.last_log = max(self.last_log, lid)
            self.flips.setdefault(xid, []).append(
                {'at': ts(at), 'sid': sid, 'old_billing': ob, 'new_billing': nb, 'old_email': oe,
                 'new_email': ne, 'la': ts(la), 'app': app})
            self.check_source_change(sid, ob, nb, oe, ne)
        return t_obs

    # -- the promises ---------------------------------------------------

    def check(self):
        t_obs = self.observe()
        self.capture_links()
        for i in range(self.env['instances']):
            p = self.procs[i]
            if p is not None and p.poll() is not None and i not in getattr(self, 'expected_exit', set()):
                self.expected_exit.add(i)
                self.proc_log[i][-1][1] = t_obs
                started = self.proc_log[i][-1][0]
                if -p.returncode in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
                    self.violate('7/killed-by-signal', None,
                                 'dormantd instance %d died of %s, %.2fs after it was started (the '
                                 'default action: no handler yet)' % (
                                     i, signal.Signals(-p.returncode).name, t_obs - started))
                else:
                    self.violate('7/exit', None, 'dormantd instance %d exited by itself (status %s):\n%s'
                                 % (i, p.returncode, self.log_tail(i)))
        while self.checked_upto < len(self.events):
            self.checked_upto += 1
            self.check_event(self.events[self.checked_upto - 1])
        self.check_time(t_obs)
        self.check_instances()

    def check_instances(self):
        """The instance reports (dormant.instance, which dormantctl status and
        /healthz show): every running instance reports and is not stale,
        one started or signalled more than a few polls ago shows its own
        SIGUSR1 pause as it is; the scanning lead, when live, belongs to a
        running instance (or to one killed less than a lease ago), and
        some running instance holds it a lease and a few polls after the
        last kill or start, and a few polls after the last SIGUSR1 or
        SIGUSR2 (a paused leader hands the lead over). A lease is max(3 polls, 5 s); stale is a lease
        and a second without a report."""
        lease, settle = LEASE, self.poll() * 3 + 2.0
        rows = self.q('SELECT i.pid, i.paused, i.stale_at < now() AND NOT (i.id = l.holder AND'
                      ' l.expires_at > now()), extract(epoch FROM now())::float8'
                      ' FROM dormant.instance i, dormant.lease l')
        held = self.q('SELECT i.pid FROM dormant.lease l JOIN dormant.instance i ON i.id = l.holder'
                      ' WHERE l.expires_at > now()')
        t = now()
        by_pid = {pid: (paused, stale) for pid, paused, stale, _ in rows}
        alive = {}
        for i in range(self.env['instances']):
            if not self.alive(i):
                continue
            pid = self.procs[i].pid
            alive[pid] = i
            started = self.proc_log[i][-1][0]
            if t < started + settle + lease:
                continue
            if pid not in by_pid:
                self.violate('instance/report', None, 'instance %d (pid %d), running since %s, has no row in '
                             'dormant.instance' % (i, pid, iso(started)), key=('inst-none', pid))
                continue
            paused, stale = by_pid[pid]
            if stale:
                self.violate('instance/report', None, 'instance %d (pid %d), running since %s, is stale in '
                             'dormant.instance' % (i, pid, iso(started)), key=('inst-stale', pid))
            sp = self.sig_pauses[i]
            last_signal = max([started] + [x for p0, p1 in sp for x in (p0, p1) if x is not None])
            if t > last_signal + settle:
                if bool(paused) != (self.sig_paused[i] is not None):
                    self.violate('instance/paused', None, 'instance %d (pid %d) shows paused=%s in dormant.instance '
                                 '%.1fs after its last %s' % (
                                     i, pid, paused, t - last_signal,
                                     'SIGUSR1' if self.sig_paused[i] is not None else
                                     'SIGUSR2' if sp else 'start'), key=('inst-paused', pid, last_signal))
        last_change = max([x for log in self.proc_log for s0, s1 in log for x in (s0, s1) if x is not None],
                          default=0)
        # A SIGUSR1 or SIGUSR2 moves the lead without a lease running out: a
        # paused leader gives the lease up at its next poll beside a live
        # instance, which takes it at its own next poll.
        last_signal = max([x for sp in self.sig_pauses for p0, p1 in sp for x in (p0, p1) if x is not None],
                          default=0)
        if held:
            pid = held[0][0]
            if pid not in alive and t > last_change + lease + 1.0:
                self.violate('instance/leader', None, 'the scanning lead is held by pid %d, which is not running '
                             '(last start or kill at %s)' % (pid, iso(last_change)), key=('lead-dead', pid))
        elif alive and t > last_change + lease + settle and t > last_signal + settle:
            self.violate('instance/leader', None, 'no instance holds the scanning lead although %d run(s) since %s'
                         % (len(alive), iso(last_change)), key=('lead-none', last_change))

    def cycle_events(self, sid, cycle):
        return [e for e in self.ev_by_sid.get(sid, []) if e['cycle'] == cycle]

    def requested_at(self, sid, cycle):
        for e in self.ev_by_sid.get(sid, []):
            if e['cycle'] == cycle and e['kind'] == 'requested' and 'resend_of' not in e['detail']:
                return e['at']
        return None

    def check_source_change(self, sid, ob, nb, oe, ne):
        """Every change dormant makes to a source row (the trigger's log)."""
        if ob != nb:
            if not (ob == 'active' and nb == 'suspended'):
                self.violate('5/billing-changed' if nb == 'suspended' else 'lifecycle/billing-changed', sid,
                             'dormant changed billing from %r to %r' % (ob, nb))
        if oe and not ne and not (ob == 'suspended' and nb == 'suspended'):
            self.violate('6/erase-billing', sid, 'erasure with billing %r (not the suspended value) under the lock' % ob)

    def check_event(self, e):
        kind, sid = e['kind'], e['sid']
        if sid is None:
            return
        same = [x for x in self.ev_by_sid.get(sid, []) if x['cycle'] == e['cycle']
                and x['kind'] == kind and x['id'] != e['id']
                and 'deleted' not in (x['detail'].get('cause'), e['detail'].get('cause'))
                and 'resend_of' not in x['detail'] and 'resend_of' not in e['detail']]
        if kind in ('requested', 'suspended', 'erased', 'declined', 'confirmed') and same:
            self.violate('lifecycle/once-per-cycle', sid, '%s twice in cycle %s' % (kind, e['cycle']))
        if kind == 'erased':
            # An erasure drops the exemption with the rest (README, "People
            # who leave"): a subscriber who comes back is due like anyone.
            sub = self.subs.get(sid)
            if sub is not None and sub.cur.exempt:
                sub.versions.append(sub.cur.copy(exempt=False, t_start=e['at'], t_done=e['seen']))
        if kind == 'erased' and e['detail'].get('cause') == 'deleted':
            # Promise 5: what dormant holds about a deleted row goes "as at
            # erasure", recorded as erased with the cause: not an erasure of
            # the section 1 kind (the row is gone), so neither erase_after
            # nor a pause holds it back; the row must really be gone.
            sub = self.subs.get(sid)
            if sub and all(v.exists for v in sub.candidates(e['at'], e['seen'])):
                self.violate('5/deleted-cause', sid, 'erased at %s for a deleted row, but the row exists'
                             % iso(e['at']))
            return
        if e['actor'] == 'daemon' and kind in TRANSITIONS_DONE_TO:
            self.check_brake(e)
        if kind == 'requested' and 'resend_of' in e['detail']:
            # dormantctl resend: the operator's new message for the same
            # cycle, not a request by the rule.
            a = self.requested_at(sid, e['cycle'])
            if a is None or a > e['at']:
                self.violate('resend/no-cycle', sid, 'a resend at %s in cycle %s, which was never requested'
                             % (iso(e['at']), e['cycle']))
        elif kind == 'requested':
            self.check_request(e)
        elif kind == 'suspended' and (e['detail'].get('reason') != 'declined'):
            self.check_suspension(e)
            self.suspensions.append(e)
        elif kind == 'reminded':
            # Counted from the cycle's last request: a resend after a bounce
            # starts the notice again, with its own reminders.
            since = max((x['id'] for x in self.ev_by_sid.get(sid, []) if x['cycle'] == e['cycle']
                         and x['kind'] == 'requested' and x['id'] < e['id']), default=0)
            n = sum(1 for x in self.ev_by_sid.get(sid, []) if x['cycle'] == e['cycle']
                    and x['kind'] == 'reminded' and since < x['id'] <= e['id'])
            req = self.requested_at(sid, e['cycle']) or e['at']
            most = max(len(p.reminders) for p in self.policies
                       if p.t_to is None or p.t_to + 3.0 >= req)
            if n > most:
                self.violate('3/reminder-twice', sid, 'reminder %d of cycle %s, but at most %d offsets were in force'
                             % (n, e['cycle'], most))
        elif kind == 'erased':
            self.check_erasure(e)

    def check_brake(self, e):
        """Promise 7: after a pause at T nothing is done to subscribers."""
        at = e['at']
        for (t0, t1) in self.cluster_pauses:
            if t0 + self.poll() < at and (t1 is None or at < t1):
                self.violate('7/ctl-pause', e['sid'], '%s at %s although dormantctl pause at %s (resume %s)'
                             % (e['kind'], iso(at), iso(t0), iso(t1) if t1 else 'none'))
                return
        # A signal pause binds its own process: only when every instance that
        # was up at that instant was paused by signal can we name a violator.
        up = [i for i in range(self.env['instances'])
              if any(s <= at and (u is None or at <= u) for s, u in self.proc_log[i])]
        if not up:
            self.violate('7/no-instance', e['sid'], '%s at %s while no instance was running' % (e['kind'], iso(at)))
            return
        # An event's time is its transaction's start on the server: a
        # statement the daemon sent just before the signal may start there
        # up to SIGNAL_SLACK later on a loaded machine.
        if all(any(p0 + SIGNAL_SLACK < at and (p1 is None or at < p1) for p0, p1 in self.sig_pauses[i])
               for i in up):
            self.violate('7/sigusr1', e['sid'], '%s at %s after SIGUSR1 to every running instance (at %s)' % (
                e['kind'], iso(at), ', '.join(iso(max(p0 for p0, p1 in self.sig_pauses[i] if p0 < at))
                                              for i in up)))

    def cluster_state(self):
        """The instances as the driver left them and the scanning lead, for
        a liveness violation's message."""
        parts = []
        for i in range(self.env['instances']):
            parts.append('instance %d %s%s' % (i, 'pid %d' % self.procs[i].pid if self.alive(i) else 'down',
                                               ' SIGUSR1 since %s' % iso(self.sig_paused[i])
                                               if self.sig_paused[i] else ''))
        lease = self.q('SELECT i.pid, l.expires_at > now() FROM dormant.lease l'
                       ' LEFT JOIN dormant.instance i ON i.id = l.holder')
        last = self.q('SELECT last_pass_at FROM dormant.control')
        parts.append('lease %s' % (lease[0] if lease else None,))
        parts.append('last pass %s' % (iso(ts(last[0][0])) if last and last[0][0] else None))
        return ', '.join(parts)

    def arrival_latency(self):
        """How long before its arrival a delivery may have started: 0.5 s;
        1.5 s in crowd histories, whose bursts of hundreds of messages, 16
        at a time, queue in the receiver (Python threads on a shared
        machine) for longer than the product takes to start them."""
        return 1.5 if self.env.get('crowd') else 0.5

    def check_delivery_brake(self, t, sid, typ, created):
        """Promise 7 for deliveries: none starts after a pause. A delivery
        is seen when it arrives, so it started after max(the row's creation,
        its arrival - 0.5 s)."""
        start = max(created or 0, t - self.arrival_latency())
        for (t0, t1) in self.cluster_pauses:
            if t0 + self.poll() < start and (t1 is None or t < t1):
                self.violate('7/ctl-pause-delivery', sid, '%s (written at %s) delivered (%s) at %s although dormantctl '
                             'pause at %s' % (typ, iso(created), self.env['delivery'], iso(t), iso(t0)),
                             key=('7-deliver', sid, typ, t0))
                return
        # Any instance up at some moment between the earliest start and the
        # arrival may have sent it (one killed since included).
        up = [i for i in range(self.env['instances'])
              if any(s0 <= t and (u is None or start <= u) for s0, u in self.proc_log[i])]
        if up and all(any(p0 < start and (p1 is None or t < p1) for p0, p1 in self.sig_pauses[i])
                      for i in up):
            self.violate('7/sigusr1-delivery', sid, '%s (written at %s) delivered (%s) at %s after SIGUSR1 to every '
                         'instance that may have sent it (at %s)' % (
                             typ, iso(created), self.env['delivery'], iso(t), ', '.join(
                                 iso(max(p0 for p0, p1 in self.sig_pauses[i] if p0 < t)) for i in up)),
                         key=('7-deliver-sig', sid, typ))

    def check_request(self, e):
        """Section 1, Request: only a subscriber the rule names is asked."""
        sub = self.subs.get(e['sid'])
        if sub is None:
            self.violate('lifecycle/request-unknown', e['sid'], 'requested a subscriber the source never had')
            return
        cands = sub.candidates(e['at'], e['seen'])
        pols = self.policies_at(e['at'])
        if not any(requestable(v, p, e['at']) for v in cands for p in pols):
            v = cands[-1] if cands else sub.cur
            self.violate('lifecycle/request-rule' if not left_reason(v) else '5/requested-after-leaving', e['sid'],
                         'requested at %s (seen %s) but the rule does not name them: exists=%s billing=%s plan=%s'
                         ' exempt=%s created=%s last_activity=%s; versions that may have been seen: %s' % (
                             iso(e['at']), iso(e['seen']), v.exists, v.billing, v.plan, v.exempt, iso(v.created),
                             iso(v.la), '; '.join(
                                 '[%s..%s] exists=%s billing=%s plan=%s exempt=%s la=%s' % (
                                     iso(c.t_start), iso(c.t_done), c.exists, c.billing, c.plan, c.exempt,
                                     iso(c.la)) for c in cands)))

    def check_erasure(self, e):
        """Section 1, Erasure: only after erase_after in the suspended state."""
        sid, at = e['sid'], e['at']
        ends = [x['at'] for x in self.ev_by_sid.get(sid, []) if x['id'] < e['id']
                and x['kind'] in ('suspended', 'declined')]
        pols = [p for p in self.policies_at(at) if p.erase is not None]
        if not pols:
            self.violate('lifecycle/erase-off', sid, 'erased at %s while erasure was off' % iso(at))
        elif not ends or at < ends[-1] + min(p.erase for p in pols):
            self.violate('lifecycle/erase-early', sid, 'erased at %s, suspended at %s, erase_after %s'
                         % (iso(at), iso(ends[-1]) if ends else 'never',
                            [p.erase for p in pols]))

    def check_deadline_unit(self, sid, cycle, delivered, dl):
        """Promise 3 as the deadline is stored: the end of a unit that the
        messages state, never earlier than delivery + confirm_within. For a
        period of a day or more, a midnight of email.timezone; for a shorter
        one, a whole second. Checked as soon as a deadline appears or moves,
        under every policy that may have been in force at the delivery."""
        pols = self.policies_at(delivered)
        if not pols:
            return
        day = [p.confirm >= 86400 for p in pols]
        t = dl.timestamp()
        if all(day):
            local = dl.astimezone(ZoneInfo(self.email_zone())) if ZoneInfo else None
            if local is not None and local.time() != datetime.time(0):
                self.violate('3/deadline-unit', sid, 'deadline %s (cycle %s) is not a midnight of %s (%s there), '
                             'though confirm_within is a day or more' % (
                                 dl.isoformat(), cycle, self.email_zone(), local.isoformat()),
                             key=('3-unit', sid, cycle))
        elif not any(day) and dl.microsecond != 0:
            self.violate('3/deadline-unit', sid, 'deadline %s (cycle %s) is not the end of a second'
                         % (dl.isoformat(), cycle), key=('3-unit', sid, cycle))
        if t < delivered + min(p.confirm for p in pols) - 0.001:
            self.violate('3/deadline-unit', sid, 'deadline %s (cycle %s) is earlier than the delivery at %s + '
                         'confirm_within %gs' % (dl.isoformat(), cycle, iso(delivered),
                                                  min(p.confirm for p in pols)), key=('3-early', sid, cycle))

    def check_suspension(self, e):
        """Promises 1, 3 and 5 for a suspension without an answer."""
        sid, cycle, at = e['sid'], e['cycle'], e['at']
        req_at = self.requested_at(sid, cycle)
        flips = [f for f in self.flips.get(e['xid'], []) if f['sid'] == sid]
        flip = next((f for f in flips if f['new_billing'] == 'suspended'), None)
        sub = self.subs.get(sid)
        if flip is None:
            cands = sub.candidates(at, e['seen']) if sub else []
            if cands and all(left_reason(v) for v in cands):
                self.violate('5/suspended-after-leaving', sid, 'suspended at %s although they had left (%s)'
                             % (iso(at), left_reason(cands[-1])))
            else:
                self.violate('lifecycle/suspension-billing', sid, 'suspended at %s without setting the billing column in '
                             'the same transaction' % iso(at))
        elif req_at is not None and flip['la'] is not None and flip['la'] > req_at:
            self.violate('1/locked-activity', sid, 'suspended at %s though the row it locked shows activity at %s, after '
                         'the request at %s' % (iso(at), iso(flip['la']), iso(req_at)))
        # Promise 3: a delivered request, the full period, every reminder's notice.
        rows = sorted((r for r in self.ob_by_sid.get(sid, []) if r['cycle'] == cycle),
                      key=lambda r: r['id'])
        # A bounce that committed before the suspension began undoes its
        # message's delivery (DESIGN section 7): no deadline runs until a new
        # request is delivered, so only what was delivered after the last
        # such bounce counts.
        bounces = [(self.bounced[r['id']], r) for r in rows if r['id'] in self.bounced
                   and self.bounced[r['id']][1] < at
                   and r['type'] in ('confirmation.requested', 'confirmation.reminder')]
        since = max((b[0] for b, _ in bounces), default=None)

        def delivered(r):
            b = self.bounced.get(r['id'])
            return (r['delivered'] is not None and r['delivered'] <= e['seen']
                    and not (b is not None and b[1] < at)
                    and (since is None or r['delivered'] > since))
        reqs = [r for r in rows if r['type'] == 'confirmation.requested' and delivered(r)]
        rems = sorted(r['delivered'] for r in rows if r['type'] == 'confirmation.reminder' and delivered(r)
                      and r['delivered'] <= at)
        if not reqs and bounces:
            (b0, b1), br = max(bounces, key=lambda x: x[0][0])
            self.violate('3/bounced', sid, 'suspended at %s although its %s (outbox %d) bounced at %s and no '
                         'new request was delivered since (cycle %s)'
                         % (iso(at), br['type'], br['id'], iso(b1), cycle))
            return
        if not reqs:
            self.violate('3/no-delivered-request', sid, 'suspended at %s without a delivered request (cycle %s)' % (iso(at), cycle))
            return
        d = min(r['delivered'] for r in reqs)
        why = []
        for pol in self.policies_at(d):
            need = [d + pol.confirm]
            for k, r in enumerate(pol.reminders):
                if k < len(rems):
                    need.append(rems[k] + r)
            enforced = max(need)
            if len(rems) >= len(pol.reminders) and at >= enforced:
                why = None
                break
            why.append('with confirm_within %gs and reminders %s the deadline is %s%s' % (
                pol.confirm, pol.reminders, iso(enforced),
                '' if len(rems) >= len(pol.reminders) else ' and %d reminder(s) are missing'
                % (len(pol.reminders) - len(rems))))
        best = why and ('suspended at %s: request delivered %s, reminders delivered %s, deadline seen %s; %s'
                        % (iso(at), iso(d), [iso(x) for x in rems],
                           iso(self.deadline_seen.get((sid, cycle))), '; or '.join(why)))
        if best:
            self.violate('3/notice', sid, best)
        # Promise 3: never earlier than the end of the day (for periods
        # shorter than a day: of the second) that the messages state.
        day = all(p.confirm >= 86400 for p in self.policies_at(d))
        zone = self.email_zone()
        for r in rows:
            if r['type'] not in ('confirmation.requested', 'confirmation.reminder') or not delivered(r):
                continue
            for stated in self.stated_deadlines(r):
                end = end_of_stated(stated, zone, day)
                if end is not None and at < end:
                    self.violate('3/end-of-day', sid, 'suspended at %s before the end of the %s that its %s '
                                 '(outbox %d) states (%s, %s in %s)'
                                 % (iso(at), 'day' if day else 'second', r['type'], r['id'], stated,
                                    iso(end), zone), key=('3-eod', sid, cycle))
                    break
        # Promise 1: the feed's horizon at the commit had reached the deadline.
        deadline = max([self.deadline_seen.get((sid, cycle), 0), d + min(
            p.confirm for p in self.policies_at(d))])
        horizon = max((x for t, x in self.writes if t <= e['seen'] and x <= at), default=None)
        if horizon is None or horizon < deadline:
            self.violate('1/feed-horizon', sid, 'suspended at %s with the deadline %s but the feed only at %s'
                         % (iso(at), iso(deadline), iso(horizon)))

    def check_time(self, t):
        """What must have happened by now: promise 3 (nothing delivered after
        the cycle ended), 4 (nobody falls out), 5 (people who left leave)."""
        grace = self.poll() + 3.0
        # Promise 3: nothing of a cycle delivered after the account left pending.
        for (sid, cycle), t_left in self.left_pending.items():
            for r in self.ob_by_sid.get(sid, []):
                if (r['cycle'] == cycle and r['delivered'] is not None
                        and r['type'] in ('confirmation.requested', 'confirmation.reminder')
                        and r['delivered'] > t_left):
                    self.violate('3/delivered-after-pending', sid, '%s (outbox %d) of cycle %s delivered at %s, after the account '
                                 'left pending (seen by %s)' % (r['type'], r['id'], cycle,
                                                               iso(r['delivered']), iso(t_left)),
                                 key=('3-after', r['id']))
        # Mail: a request or reminder states the deadline its row records
        # (once the delivery wrote it there): in email.timezone, as the last
        # second inside it (the last minute, 23:59, for a period of days).
        keep = []
        for oid, text in self.mail_texts:
            r = self.outbox.get(oid)
            stated = ((r.get('payload') or {}).get('data') or {}).get('deadline') if r else None
            if r is None or r['delivered'] is None or not stated:
                if r is not None and r['dead'] is None and r['gone'] is None:
                    keep.append((oid, text))
                continue
            want = mail_deadline_words(stated, self.email_zone())
            if want and not all(w in text for w in want):
                self.violate('email/stated-deadline', r['sid'], '%s (outbox %d) records the deadline %s, which in %s '
                             'reads %s, but the mail says: %s' % (
                                 r['type'], oid, stated, self.email_zone(), ' '.join(want),
                                 ' / '.join(x for x in text.splitlines() if re.search(r'\d{4}', x))),
                             key=('mail-stated', oid))
        self.mail_texts = keep
        # Mail: a row recorded as delivered was accepted by the SMTP server
        # (whose log is read after the rows, so it is never behind them).
        if self.mail is not None:
            for r in self.outbox.values():
                if (r['delivered'] is not None and r['id'] not in self.mailed
                        and r['type'] in ('confirmation.requested', 'confirmation.reminder')):
                    self.violate('email/not-received', r['sid'], '%s (outbox %d) recorded as delivered at %s, but '
                                 'the SMTP server never received it' % (r['type'], r['id'], iso(r['delivered'])),
                                 key=('mail-none', r['id']))
        # Promise 3: each delivery is recorded as an event (kind delivered).
        # (Counted as events and rows arrive, in observe: a check that
        # re-reads every row each step costs a crowd history its rate.)
        for oid in sorted(self.dlv_pending):
            r = self.outbox[oid]
            if t <= r['delivered'] + grace:
                continue
            self.dlv_pending.discard(oid)
            k = (r['sid'], r['cycle'], r['type'])
            self.dlv_rows[k] = self.dlv_rows.get(k, 0) + 1
            # An erasure or a deleted row empties the events' detail: such a
            # delivered event may be of either type.
            if self.dlv_rows[k] > self.dlv_events.get(k, 0) + self.dlv_events.get((k[0], k[1], '*'), 0):
                self.violate('3/delivered-event', r['sid'], '%s (outbox %d) delivered at %s: no delivered event'
                             % (r['type'], r['id'], iso(r['delivered'])), key=('3-dlv', r['id']))
        # Guards open and an instance up: the clock of promise 4.
        paused = self.cluster_paused
        ups = [i for i in range(self.env['instances']) if self.alive(i)]
        if not ups:
            self.up_since = None
        elif self.up_since is None:
            self.up_since = t
        # An instance killed while it held the scanning lead keeps it until
        # its lease runs out: nobody scans until then.
        self.live_since = None if self.up_since is None else max(self.up_since, self.last_kill + LEASE)
        open_now = (ups and not paused and any(self.sig_paused[i] is None for i in ups)
                    and not self.feed_stale(t))
        if not open_now:
            self.open_since = None
        elif self.open_since is None:
            self.open_since = t
        # The liveness checks wait for passes: passes must run. A pass
        # records itself even when paused; 30 s is many passes.
        if (self.live_since is not None and t > self.live_since + 30.0
                and not any(end > t - 30.0 for _, end in self.passes)):
            self.violate('lifecycle/no-pass', None, 'no pass done since %s although an instance runs since %s'
                         % (iso(self.passes[-1][1]) if self.passes else 'the start', iso(self.live_since)),
                         key=('no-pass', self.passes[-1][1] if self.passes else None))
        # Promise 1: activity dated before the horizon but written after the
        # suspension is recorded (used_while_suspended).
        for e in self.suspensions:
            sub = self.subs.get(e['sid'])
            req = self.requested_at(e['sid'], e['cycle'])
            if sub is None or req is None or self.live_since is None:
                continue
            # While the account stays suspended (not erased, not reactivated)
            # for a grace after the write: late activity after that is no
            # longer the feed's lateness about a suspended subscriber.
            left = min((x['at'] for x in self.ev_by_sid.get(e['sid'], []) if x['id'] > e['id']
                        and x['kind'] in ('erased', 'reactivated')), default=None)
            for prev, v in zip(sub.versions, sub.versions[1:]):
                if (v.t_start > e['seen'] and v.la is not None and v.la != prev.la
                        and req < v.la <= e['at'] and (left is None or v.t_done + grace < left)
                        and t > max(v.t_done, self.live_since) + grace
                        and self.passed_since(max(v.t_done, self.live_since))):
                    got = [x for x in self.ev_by_sid.get(e['sid'], []) if x['id'] > e['id']
                           and x['kind'] == 'used_while_suspended']
                    if not got:
                        self.violate('1/used-while-suspended', e['sid'], 'activity at %s (after the request at %s, before the '
                                     'suspension at %s) written at %s: no used_while_suspended event'
                                     % (iso(v.la), iso(req), iso(e['at']), iso(v.t_done)),
                                     key=('1-late', e['id']))
                    break
        for sid, sub in self.subs.items():
            if sid in WATCHERS:
                continue
            v = sub.cur
            st = self.account_state(sid)
            # Promise 5: a pending subscriber who left leaves the lifecycle.
            for lv in sub.leaves:
                if (lv[2] or self.live_since is None or t < max(lv[0], self.live_since) + grace
                        or not self.passed_since(max(lv[0], self.live_since))
                        or not left_since(sub, lv[0])):
                    continue
                a = self.accounts.get(sid)
                req = a and a['requested']
                if a and a['state'] == 'pending' and req is not None and req < lv[0]:
                    lv[2] = True
                    self.violate('5/still-pending', sid, 'still pending %.1fs after leaving (%s at %s)'
                                 % (t - lv[0], lv[1], iso(lv[0])))
                for r in self.ob_by_sid.get(sid, []):
                    if (r['delivered'] is None and r['dead'] is None
                            and r['gone'] is None and r['created'] < lv[0]
                            and r['type'] in ('confirmation.requested', 'confirmation.reminder')):
                        lv[2] = True
                        self.violate('5/deliverable', sid, '%s (outbox %d) still deliverable %.1fs after they left (%s)'
                                     % (r['type'], r['id'], t - lv[0], lv[1]))
                        break
            if (sub.deleted_at and not v.exists and self.live_since is not None
                    and t > max(sub.deleted_at, self.live_since) + grace
                    and self.passed_since(max(sub.deleted_at, self.live_since))):
                held = [r['id'] for r in self.ob_by_sid.get(sid, []) if r['gone'] is None
                        and 'email' in json.dumps(r.get('payload') or {})
                        and ((r.get('payload') or {}).get('data') or {}).get('email')]
                if held:
                    self.violate('5/deleted-data', sid, 'row deleted at %s but dormant still holds the address in outbox %s'
                                 % (iso(sub.deleted_at), held), key=('5-del', sid))
            # Promise 4: due and still due -> requested within sweep + poll.
            window = self.sweep() + self.poll() + 10.0
            pols = [p for p in self.policies if p.t_to is None or p.t_to + 3.0 >= t - window]
            confirmed = max((e['at'] for e in self.ev_by_sid.get(sid, [])
                             if e['kind'] in ('confirmed', 'resumed')), default=None)
            due = (st in (None, 'active') and all(requestable(v, p, t) for p in pols)
                   and (confirmed is None or all(confirmed + p.inactive <= t for p in pols)))
            if not due:
                sub.due_since = None
                continue
            if sub.due_since is None:
                sub.due_since = t
            start = max(sub.due_since, self.open_since or t, self.policies[-1].t_from, self.last_kill + LEASE)
            if (self.open_since is not None and t > start + self.sweep() + self.poll() + 4.0
                    and self.passed_since(start + self.sweep())):
                self.violate('4/not-requested', sid, 'due since %s (guards open since %s) and not requested by %s'
                             ' [%s]' % (iso(sub.due_since), iso(self.open_since), iso(t), self.cluster_state()),
                             key=('4', sid, sub.due_since))


# ---------------------------------------------------------------------------
# Running, replaying, shrinking.

def probe_naive_refusal(tmp, dsn_admin, say):
    """Promise 2: without source.timezone, a timestamp or date activity column
    must make migrate refuse (no silent default)."""
    findings = []
    for col in ('timestamp', 'date'):
        name = 'model_probe_%d_%s' % (os.getpid(), secrets.token_hex(3))
        harness.psql(dsn_admin, 'CREATE DATABASE "%s"' % name)
        dsn = harness.admin_dsn(name)
        try:
            harness.psql(dsn, 'CREATE TABLE public.subscribers (id bigint PRIMARY KEY, email text,'
                         ' created_at timestamptz NOT NULL, last_activity_at %s, locale text,'
                         ' billing_status text NOT NULL DEFAULT \'active\')' % col)
            cfg = copy.deepcopy(harness.BASE_CONFIG)
            cfg['database']['conninfo'] = dsn
            cfg['http']['listen'] = '127.0.0.1:1'
            cfg['http']['public_url'] = 'http://127.0.0.1:1'
            cfg['log']['destination'] = os.path.join(tmp, 'probe.log')
            cfg['webhook']['secret_file'] = os.path.join(tmp, 'webhook.secret')
            path = os.path.join(tmp, 'probe2.conf')
            with open(path, 'w') as f:
                f.write(harness.render_config(cfg))
            r = subprocess.run([harness.DORMANTCTL, '-c', path, 'migrate'], capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 78:
                findings.append({'promise': '2/no-silent-default', 'sid': None, 'step': -1, 'text':
                                 'migrate with a %s activity column and no source.timezone exited %d '
                                 '(a configuration error, 78, is due)' % (col, r.returncode)})
        finally:
            harness.psql(dsn_admin, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    for f in findings:
        say('VIOLATION 2/no-silent-default: %s' % f['text'])
    return findings


def run_history(seed, instances, max_steps, max_seconds, features, say, steps=None, stop_on=None,
                keep=False):
    """Run one history: generated from seed (steps None) or the given steps.
    Returns (steps run, violations, run)."""
    rng = random.Random(seed)
    env = generate_env(rng, instances, features)
    tmp = tempfile.mkdtemp(prefix='dormant-model.')
    with open(os.path.join(tmp, 'webhook.secret'), 'w') as f:
        f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
    run = Run(seed, env, features, tmp, log=say, stop_on=stop_on)
    gen = Generator(rng, env, features)
    done = []
    t_end = now() + max_seconds
    try:
        run.setup()
        run.check()
        n = 0
        while True:
            if steps is not None:
                if n >= len(steps):
                    break
                st = steps[n]
            else:
                if n >= max_steps or now() >= t_end:
                    break
                st = gen.step(run)
            run.step_no = n
            run.feed()
            run.apply(st)
            done.append(st)
            time.sleep(st['dt'])
            run.check()
            n += 1
        # A replayed (or shrunk) history ends with a wait as long as a cycle,
        # with the live feed running, so that dropping a step that only
        # waited does not hide what follows from what came before.
        if steps is not None:
            for _ in range(16):
                time.sleep(0.5)
                run.feed()
                run.check()
    except Violation:
        pass
    finally:
        run.teardown()
        if keep or (run.violations and steps is None):
            # A failing history keeps its directory: the daemons' logs and
            # violations.txt, each violated subscriber's story.
            say('kept %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done, run.violations, run


def shrink(seed, instances, steps, promise, features, say, budget):
    """Delta debugging (ddmin) over the step list: the smallest sub-history
    whose replay still breaks the same promise, within budget seconds."""
    t_end = now() + budget
    quiet = (lambda *_: None)

    def fails(sub):
        if now() > t_end:
            return False
        _, vs, _ = run_history(seed, instances, len(sub), 1e9, features, quiet, steps=sub,
                               stop_on=promise)
        return any(v['promise'] == promise for v in vs)

    if fails([]):
        return []       # the seed's population and policy alone, and time
    cur = list(steps)
    n = 2
    while len(cur) >= 2 and now() < t_end:
        chunk = max(1, len(cur) // n)
        reduced = False
        for i in range(0, len(cur), chunk):
            comp = cur[:i] + cur[i + chunk:]
            if fails(comp):
                cur = comp
                n = max(n - 1, 2)
                reduced = True
                say('  shrunk to %d steps' % len(cur))
                break
        if not reduced:
            if n >= len(cur):
                break
            n = min(len(cur), n * 2)
    return cur


def run_one(seed, instances, h_steps, h_seconds, features, quiet, keep, tagged):
    """One history, in this process or in a worker of --jobs: returns what
    the summary needs (never the Run itself, which holds connections)."""
    tag = '[%d] ' % seed if tagged else ''

    def say(msg):
        if not quiet or msg.startswith(('VIOLATION', '  (further', 'kept')):
            print(tag + msg, flush=True)
    try:
        steps, vs, run = run_history(seed, instances, h_steps, h_seconds, features, say, keep=keep)
    except Exception:  # noqa: BLE001 - the referee's own failure: say it, go on
        import traceback
        return {'seed': seed, 'instances': instances, 'error': traceback.format_exc()}
    kinds = {}
    for e in run.events:
        kinds[e['kind']] = kinds.get(e['kind'], 0) + 1
    env = run.env
    return {'seed': seed, 'instances': instances, 'steps': steps, 'vs': vs, 'kinds': kinds,
            'env': '%s delivery, column %s in %s, server zone %s, email zone %s%s' % (
                env['delivery'], env['column_type'], env['source_zone'], env['db_zone'],
                env['email_zone'], ', crowd %d' % env['crowd'] if env.get('crowd') else '')}


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog='scripts/model', description=__doc__.split('\n\n')[0])
    ap.add_argument('--seconds', type=float, default=None, help='run histories for this long in all')
    ap.add_argument('--steps', type=int, default=None, help='run this many steps in all')
    ap.add_argument('--seed', type=int, action='append', default=[],
                    help='replay this seed exactly (repeatable); otherwise fresh seeds')
    ap.add_argument('--fresh', type=int, default=None,
                    help='with --seed: this many fresh seeds after the given ones')
    ap.add_argument('--instances', type=int, default=None, help='dormantd instances (default: 1 or 2 per seed)')
    ap.add_argument('--history-seconds', type=float, default=60.0, help='length of one history')
    ap.add_argument('--history-steps', type=int, default=10 ** 9, help='steps of one history at most')
    ap.add_argument('--shrink-seconds', type=float, default=600.0,
                    help='time allowed to shrink each failing history (0: do not shrink)')
    ap.add_argument('--column', choices=['timestamptz', 'timestamp', 'date'],
                    help='force the activity column type of every history (without source.timezone '
                         'the model still reads naive columns in the history\'s zone)')
    ap.add_argument('--jobs', type=int, default=1,
                    help='histories run side by side, each on its own database (a history mostly waits)')
    ap.add_argument('--keep', action='store_true', help='keep each history\'s directory (logs, configs)')
    ap.add_argument('--quiet', action='store_true', help='print only violations and the summary')
    args = ap.parse_args(argv)
    # SIGTERM (ctest's timeout, an operator) ends the run the way ^C does:
    # every history's teardown runs, so no dormantd or SMTP server is left.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    global FORCE_COLUMN
    FORCE_COLUMN = args.column
    if not harness.have_pg():
        print('model: PGHOST is not set (run through scripts/model or scripts/test): skipped',
              file=sys.stderr)
        return 77
    if args.seconds is None and args.steps is None:
        args.seconds = 60.0 if not args.seed else 1e9
    if args.seed and args.seconds is None:
        args.seconds = 1e9
    budget_t = now() + (args.seconds if args.seconds is not None else 1e9)
    budget_steps = args.steps if args.steps is not None else 10 ** 12

    def say(msg):
        print(msg, flush=True)

    tmp = tempfile.mkdtemp(prefix='dormant-model-probe.')
    try:
        features = probe_features(tmp, harness.admin_dsn())
        say('features: %s' % ', '.join('%s=%s' % kv for kv in sorted(features.items())))
        findings = [] if features.get('source.timezone') else probe_naive_refusal(
            tmp, harness.admin_dsn(), say)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seeds = list(args.seed) + [None] * (args.fresh or 0)
    fixed = bool(seeds)
    total_steps = 0
    histories = 0
    t0 = now()
    failures = []
    all_kinds = {}
    harness_errors = 0
    busy = {}           # future -> steps reserved for it
    reserved = 0
    pool = None
    if args.jobs > 1:
        import concurrent.futures
        import multiprocessing
        pool = concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context('fork'))

    def next_job():
        """The next history to run, or None when the budget is spent."""
        nonlocal reserved
        if reserved >= budget_steps or now() >= budget_t - (1.0 if busy else 0.0):
            return None
        if fixed:
            if not seeds:
                return None
            seed = seeds.pop(0)
        else:
            seed = None
        if seed is None:
            seed = random.SystemRandom().randrange(1, 2 ** 31)
        instances = args.instances or (1 + seed % 2)
        h_seconds = min(args.history_seconds, max(5.0, budget_t - now()))
        h_steps = min(args.history_steps, budget_steps - reserved)
        reserved += h_steps
        say('history: seed %d, %d instance(s), up to %.0fs%s' % (
            seed, instances, h_seconds, ' / %d steps' % h_steps if h_steps < 10 ** 8 else ''))
        return (seed, instances, h_steps, h_seconds, features, args.quiet, args.keep, pool is not None)

    def done(res, h_steps):
        nonlocal total_steps, histories, harness_errors, reserved
        reserved -= h_steps - len(res.get('steps') or [])
        if res.get('error'):
            say('  seed %d: the history could not run (a fault of the harness or the machine, not a '
                'finding):\n%s' % (res['seed'], res['error']))
            harness_errors += 1
            return
        histories += 1
        total_steps += len(res['steps'])
        for k, n in res['kinds'].items():
            all_kinds[k] = all_kinds.get(k, 0) + n
        say('  seed %d: %d steps, %d violation(s); env: %s; events: %s' % (
            res['seed'], len(res['steps']), len(res['vs']), res['env'],
            ' '.join('%s=%d' % kv for kv in sorted(res['kinds'].items()))))
        if res['vs']:
            failures.append((res['seed'], res['instances'], res['steps'], res['vs']))

    if pool is None:
        while True:
            job = next_job()
            if job is None:
                break
            done(run_one(*job), job[2])
    else:
        import concurrent.futures
        try:
            while True:
                while len(busy) < args.jobs:
                    job = next_job()
                    if job is None:
                        break
                    busy[pool.submit(run_one, *job)] = job[2]
                if not busy:
                    break
                finished, _ = concurrent.futures.wait(list(busy), return_when=concurrent.futures.FIRST_COMPLETED)
                for f in finished:
                    h_steps = busy.pop(f)
                    try:
                        res = f.result()
                    except Exception:  # noqa: BLE001 - a worker that died: the harness's fault
                        import traceback
                        res = {'seed': -1, 'error': traceback.format_exc()}
                    done(res, h_steps)
        finally:
            pool.shutdown(wait=True)
    elapsed = now() - t0
    say('')
    say('model: %d histories, %d steps in %.0fs (%.1f steps/s); events: %s' % (
        histories, total_steps, elapsed, total_steps / elapsed if elapsed else 0,
        ' '.join('%s=%d' % kv for kv in sorted(all_kinds.items()))))
    for f in findings:
        say('FINDING 2/no-silent-default: %s' % f['text'])
    # Every check broken, with how many histories broke it and the first seed.
    table = {}
    for seed, instances, steps, vs in failures:
        for v in vs:
            row = table.setdefault(v['promise'], {'seeds': [], 'count': 0, 'first': (seed, instances, v)})
            row['count'] += 1
            if seed not in row['seeds']:
                row['seeds'].append(seed)
    for label, row in sorted(table.items()):
        seed, instances, v = row['first']
        say('BROKEN %s: %d violation(s) in %d of %d histories; first: --seed %d --instances %d, step #%d, '
            'subscriber %s: %s' % (label, row['count'], len(row['seeds']), histories, seed, instances,
                                   v['step'], v['sid'], v['text'].split('\n')[0]))
    if args.shrink_seconds > 0:
        # Each broken check once, in the first history that broke it, from
        # its first violation's step back.
        for label, row in sorted(table.items()):
            seed, instances, v = row['first']
            steps = next(f[2] for f in failures if f[0] == seed)
            prefix = steps[:v['step'] + 1]
            say('shrinking %s: seed %d, %d steps (up to %.0fs)...' % (label, seed, len(prefix),
                                                                     args.shrink_seconds))
            small = shrink(seed, instances, prefix, label, features, say, args.shrink_seconds)
            say('minimal history for %s (--seed %d --instances %d), %d step(s) after the setup %s:' % (
                label, seed, instances, len(small), describe_env(seed, instances, features)))
            for i, st in enumerate(small):
                say('    ' + describe(i, st))
    if harness_errors:
        say('model: %d histories could not run' % harness_errors)
    if findings or failures or harness_errors:
        say('model: FAIL')
        return 1
    say('model: PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
