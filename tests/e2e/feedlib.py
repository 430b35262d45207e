"""Helpers for the tests of DESIGN.md section 1's promises
(tests/e2e/test_promise_*.py): source tables whose time columns have the
types real applications use, a server whose TimeZone is not UTC, a live
activity feed (someone who keeps watching), and a mailer that acknowledges
the outbox the way an application's own mailer does.

Promise 1 holds suspensions back until the activity feed has caught up
with the deadline, so a test that expects a suspension keeps a feed alive,
as a real service does: one row of the source table, not a subscriber of
the lifecycle (its billing is not the active value), whose activity the
feed keeps moving to now.
"""

import base64
import os
import secrets
import uuid

import harness
from enginelib import EngineTestCase
from webhook_sink import WebhookSink, read_whsec


def sample_ids(id_type, n, prefix='s'):
    """n distinct keys of the given type, as Python values psycopg2 can bind."""
    if id_type == 'uuid':
        return [str(uuid.uuid4()) for _ in range(n)]
    if id_type == 'text':
        return ["%s-%d'x\"" % (prefix, i) for i in range(1, n + 1)]
    return list(range(1, n + 1))


# SQL for "now" as a column of each type stores it: a Rails application
# writes UTC wall-clock time into `timestamp without time zone`, a daily
# import writes the date in the service's zone.
def now_as(col_type, zone='UTC'):
    if col_type == 'timestamptz':
        return 'now()'
    if col_type == 'timestamp':
        return "(now() AT TIME ZONE '%s')" % zone
    if col_type == 'date':
        return "(now() AT TIME ZONE '%s')::date" % zone
    raise ValueError(col_type)


# The application's own mailer in outbox-only mode: acknowledges every
# undelivered message, except while dormantctl pause is in force (it reads
# dormant.control, as app_mailer may).
MAILER_SQL = ('UPDATE dormant.outbox SET delivered_at = now()'
              ' WHERE delivered_at IS NULL AND dead_at IS NULL'
              '   AND NOT (SELECT paused FROM dormant.control)')


class FeedTestCase(EngineTestCase):
    """An EngineTestCase whose source table can have any key and time types."""

    def setup_typed(self, id_type='bigint', la_type='timestamptz', created_type='timestamptz',
                    server_tz=None, overrides=None, migrate=True, **kw):
        """Fresh database (with TimeZone = server_tz for every session when
        given), a subscribers table with those types, a configuration, and
        (unless migrate is false) the dormant schema. Returns the DSN."""
        self.dsn = self.fresh_db('promise')
        self.id_type, self.la_type, self.created_type = id_type, la_type, created_type
        if server_tz:
            self.psql(harness.admin_dsn(), 'ALTER DATABASE "%s" SET TimeZone = %%s'
                      % self.dbs[-1], (server_tz,))
        self.psql(self.dsn, '''CREATE TABLE public.subscribers (
            id %s PRIMARY KEY,
            email text,
            created_at %s NOT NULL,
            last_activity_at %s,
            locale text,
            billing_status text NOT NULL DEFAULT 'active')''' % (id_type, created_type, la_type))
        self.write_config(overrides or {}, dsn=self.dsn, **kw)
        if migrate:
            rc, out, err = self.ctl('migrate', '--create-indexes')
            self.assertEqual(rc, 0, err)
        return self.dsn

    def add(self, ids, created, active, billing='active', zone='UTC'):
        """Insert subscribers whose created_at and last_activity_at are the
        SQL timestamptz expressions given (active None: never active),
        stored as the column types store them (naive columns in `zone`)."""
        def conv(expr, col_type):
            if expr is None:
                return 'NULL'
            if col_type == 'timestamptz':
                return '(%s)' % expr
            if col_type == 'timestamp':
                return "((%s) AT TIME ZONE '%s')" % (expr, zone)
            return "((%s) AT TIME ZONE '%s')::date" % (expr, zone)
        for i in ids:
            self.q('INSERT INTO subscribers (id, email, created_at, last_activity_at, locale,'
                   ' billing_status) VALUES (%%s, %%s, %s, %s, %%s, %%s)'
                   % (conv(created, self.created_type), conv(active, self.la_type)),
                   (i, 'user%s@example.com' % i, 'en', billing))

    def start_feed(self, watcher_id, zone='UTC', every=0.2):
        """A watcher row (billing 'staff': never part of the lifecycle) and a
        live feed moving its activity to now; stopped at cleanup."""
        self.add([watcher_id], "now() - interval '5 years'", 'now()', billing='staff', zone=zone)
        feed = harness.Repeater(self.dsn, 'UPDATE subscribers SET last_activity_at = '
                        + now_as(self.la_type, zone) + ' WHERE id = %s', (watcher_id,), every)
        self.addCleanup(feed.stop)
        return feed

    def webhook_sink(self):
        """A webhook receiver keyed with the secret write_config() will name
        (created here first); closed at cleanup."""
        path = os.path.join(self.tmp, 'webhook.secret')
        if not os.path.exists(path):
            with open(path, 'w') as f:
                f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
        sink = WebhookSink(read_whsec(path))
        self.addCleanup(sink.close)
        return sink

    def start_mailer(self, every=0.2):
        mailer = harness.Repeater(self.dsn, MAILER_SQL, None, every)
        self.addCleanup(mailer.stop)
        return mailer

    def state_of(self, sid):
        return self.one('SELECT state FROM dormant.account WHERE subscriber_id = %s', (sid,))

    def billing_of(self, sid):
        return self.one('SELECT billing_status FROM subscribers WHERE id = %s', (sid,))

    def kinds_of(self, sid):
        """The event kinds of one subscriber, in order."""
        return [r[0] for r in self.q('SELECT kind FROM dormant.event WHERE subscriber_id = %s'
                                     ' ORDER BY id', (sid,))]
