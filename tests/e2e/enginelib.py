"""Helpers shared by the lifecycle-engine tests (tests/e2e/test_engine_*.py).

They drive the real dormantd against the test PostgreSQL and observe only
what an operator could: the database (dormant's tables and the source
table), the logs and exit codes. The outbox is acknowledged the way an
application's own mailer does in outbox-only mode.
"""

import hashlib
import re

import harness


class EngineTestCase(harness.DaemonTestCase):
    """A DaemonTestCase with a migrated database and lifecycle helpers."""

    def setup_db(self, id_type='bigint', overrides=None, **kw):
        """Fresh database, subscribers table with id_type keys, configuration
        (overrides as write_config), migrated with the source indexes.
        Returns the DSN; self.dsn keeps it."""
        self.dsn = self.fresh_db('engine')
        self.make_subscribers_table(self.dsn, id_type=id_type)
        self.write_config(overrides or {}, dsn=self.dsn, **kw)
        rc, out, err = self.ctl('migrate', '--create-indexes')
        self.assertEqual(rc, 0, err)
        return self.dsn

    def once(self, *args, expect=0):
        """Run dormantd --once to completion; assert its exit status."""
        p = self.start_daemon(self.config, '--once', *args)
        rc = self.wait_exit(p)
        self.assertEqual(rc, expect, 'dormantd --once exited %s\n%s' % (rc, self.output_tail()))
        return rc

    def q(self, sql, params=None):
        return self.psql(self.dsn, sql, params)

    def one(self, sql, params=None):
        return self.scalar(self.dsn, sql, params)

    def states(self):
        """{subscriber_id as text: state} for every account row."""
        return {str(r[0]): r[1] for r in self.q(
            'SELECT subscriber_id, state FROM dormant.account')}

    def pending(self):
        return sorted(k for k, v in self.states().items() if v == 'pending')

    def events(self, kind=None):
        """[(subscriber_id text, kind, cycle, actor, detail)] in order."""
        rows = self.q('SELECT subscriber_id::text, kind, cycle, actor, detail FROM dormant.event'
                      ' ORDER BY id')
        return [r for r in rows if kind is None or r[1] == kind]

    def messages(self, type_=None):
        """[(id, type, subscriber_id text, payload)] in order."""
        rows = self.q('SELECT id, type, subscriber_id::text, payload FROM dormant.outbox'
                      ' ORDER BY id')
        return [r for r in rows if type_ is None or r[1] == type_]

    def age_requests(self, interval):
        """Moves the 'requested' events back by interval (a rolling window
        passing). The audit trail refuses any such UPDATE; only DDL gets
        past its trigger, so the test disables it around the change."""
        self.q("ALTER TABLE dormant.event DISABLE TRIGGER event_append_only;"
               " UPDATE dormant.event SET at = at - %s::interval WHERE kind = 'requested';"
               " ALTER TABLE dormant.event ENABLE TRIGGER event_append_only", (interval,))

    def ack(self, subscriber_ids=None):
        """Acknowledge undelivered messages (of the given subscribers) as the
        application's mailer does; returns how many."""
        rows = self.q('SELECT id, subscriber_id::text FROM dormant.outbox'
                      ' WHERE delivered_at IS NULL AND dead_at IS NULL ORDER BY id')
        wanted = None if subscriber_ids is None else {str(s) for s in subscriber_ids}
        ids = [oid for oid, sid in rows if wanted is None or sid in wanted]
        if ids:
            # The mailer's acknowledgement, for many rows at once.
            self.q('UPDATE dormant.outbox SET delivered_at = now() WHERE id = ANY(%s)', (ids,))
        return len(ids)

    def token_of(self, payload):
        """The token in a message's confirm_url, checking the URL's shape."""
        url = payload['data']['confirm_url']
        m = re.fullmatch(re.escape(self.http_url) + r'/c/([A-Za-z0-9_-]{43})', url)
        self.assertIsNotNone(m, url)
        return m.group(1)

    def token_stored(self, token, subscriber_id):
        """True when the database holds sha256(token) for the subscriber."""
        h = hashlib.sha256(token.encode()).hexdigest()
        return self.one("SELECT count(*) FROM dormant.token WHERE hash = decode(%s, 'hex')"
                        ' AND subscriber_id::text = %s', (h, str(subscriber_id))) == 1

    def assert_exactly_once(self, kind, ids, msg_type=None):
        """Each of ids has exactly one event of kind (and one message of
        msg_type), and nobody else has any."""
        got = sorted(e[0] for e in self.events(kind))
        want = sorted(str(i) for i in ids)
        self.assertEqual(len(got), len(set(got)), 'duplicate %s events' % kind)
        if got != want:
            # The accounts and the daemon's log: what a flaky pass needs.
            self.fail('%s events: got %s, want %s\naccounts: %s\n%s' % (
                kind, got, want, self.q('SELECT subscriber_id::text, state, deadline, delivered_at,'
                                        ' next_reminder_at, reminder_outbox_id, now()'
                                        ' FROM dormant.account ORDER BY 1'),
                self.output_tail()))
        if msg_type:
            sent = sorted(m[2] for m in self.messages(msg_type))
            self.assertEqual(len(sent), len(set(sent)), 'duplicate %s messages' % msg_type)
            self.assertEqual(sent, want, '%s messages' % msg_type)
