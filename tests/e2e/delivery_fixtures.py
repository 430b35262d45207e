"""Shared set-up for the delivery tests: a migrated database with pending
subscribers whose confirmation requests (or other messages) sit in the
outbox, written directly the way the engine writes them."""

import os

import harness

REQUESTED = 'confirmation.requested'


class DeliveryTestCase(harness.DaemonTestCase):

    def secret_path(self):
        """The webhook secret write_config() creates (created here first so a
        receiver can be built with its key before the configuration)."""
        path = os.path.join(self.tmp, 'webhook.secret')
        if not os.path.exists(path):
            import base64
            import secrets
            with open(path, 'w') as f:
                f.write('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode() + '\n')
        return path

    def migrated_db(self, overrides, name='dormant.conf'):
        """A fresh database with the subscribers table, a configuration with
        overrides, and the dormant schema migrated. Returns (dsn, config)."""
        dsn = self.fresh_db('delivery')
        self.make_subscribers_table(dsn)
        self.secret_path()
        conf = self.write_config(overrides, dsn=dsn, name=name)
        rc, out, err = self.ctl('migrate', config=conf)
        self.assertEqual(rc, 0, err)
        return dsn, conf

    def add_messages(self, dsn, first, count, type=REQUESTED, locale='en', deadline=None):
        """Subscribers first..first+count-1, pending, each with one outbox row
        of type; returns the outbox ids in subscriber order. One statement,
        as the engine writes them, so a pass running meanwhile sees all of
        it or none (and never requests these subscribers itself)."""
        last = first + count - 1
        rows = self.psql(dsn, '''
            WITH s AS (
              INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale)
              SELECT g, 'user' || g || '@example.com', now() - interval '4 years',
                     timestamptz '2024-10-01 20:11:00+00', %(locale)s
                FROM generate_series(%(first)s, %(last)s) g
              RETURNING id),
            o AS (
              INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
              SELECT %(type)s, s.id, 1, jsonb_build_object(
                       'type', %(type)s,
                       'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'data', jsonb_strip_nulls(jsonb_build_object(
                          'subscriber_id', s.id::text,
                          'email', 'user' || s.id || '@example.com',
                          'locale', %(locale)s,
                          'confirm_url', CASE WHEN %(type)s IN ('confirmation.requested',
                                                                 'confirmation.reminder')
                                         THEN 'https://account.example.com/dormant/c/tok' || s.id
                                         END,
                          'deadline', %(deadline)s,
                          'last_activity_at', '2024-10-01T20:11:00Z',
                          'rule', 'inactive')))
                FROM s
              RETURNING id, subscriber_id),
            a AS (
              INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,
                                           delivered_at, deadline, request_outbox_id)
              SELECT o.subscriber_id, 'pending', 1, 'inactive', now(),
                     CASE WHEN %(deadline)s::timestamptz IS NOT NULL THEN now() END,
                     %(deadline)s::timestamptz,
                     CASE WHEN %(type)s = 'confirmation.requested' THEN o.id END
                FROM o
              RETURNING 1)
            SELECT id FROM o''', {'locale': locale, 'first': first, 'last': last, 'type': type,
                                   'deadline': deadline})
        self.psql(dsn, 'NOTIFY dormant_outbox')
        return sorted(r[0] for r in rows)

    def outbox(self, dsn, oid):
        """One outbox row as a dict."""
        rows = self.psql(dsn, '''SELECT id, attempts, delivered_at, dead_at, last_error,
                                        channels_done, payload, claimed_by
                                   FROM dormant.outbox WHERE id = %s''', (oid,))
        keys = ('id', 'attempts', 'delivered_at', 'dead_at', 'last_error', 'channels_done',
                'payload', 'claimed_by')
        return dict(zip(keys, rows[0]))

    def wait_row(self, dsn, oid, cond, what):
        """Poll outbox row oid until cond(row) holds; return the row."""
        return self.wait_for(lambda: (lambda r: r if cond(r) else None)(self.outbox(dsn, oid)),
                             what=what)
