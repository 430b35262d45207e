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
        of type; returns the outbox ids in subscriber order."""
        last = first + count - 1
        self.psql(dsn, '''
            INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale)
            SELECT g, 'user' || g || '@example.com', now() - interval '4 years',
                   timestamptz '2024-10-01 20:11:00+00', %s
              FROM generate_series(%s, %s) g''', (locale, first, last))
        self.psql(dsn, '''
            INSERT INTO dormant.account (subscriber_id, state, cycle, rule, requested_at,
                                         delivered_at, deadline)
            SELECT g, 'pending', 1, 'inactive', now(),
                   CASE WHEN %s::timestamptz IS NOT NULL THEN now() END, %s::timestamptz
              FROM generate_series(%s, %s) g''', (deadline, deadline, first, last))
        rows = self.psql(dsn, '''
            INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
            SELECT %s, g, 1, jsonb_build_object(
                     'type', %s,
                     'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                     'data', jsonb_strip_nulls(jsonb_build_object(
                        'subscriber_id', g::text,
                        'email', 'user' || g || '@example.com',
                        'locale', %s,
                        'confirm_url', CASE WHEN %s IN ('confirmation.requested',
                                                        'confirmation.reminder')
                                       THEN 'https://account.example.com/dormant/c/tok' || g END,
                        'deadline', %s,
                        'last_activity_at', '2024-10-01T20:11:00Z',
                        'rule', 'inactive')))
              FROM generate_series(%s, %s) g
            RETURNING id''', (type, type, locale, type, deadline, first, last))
        ids = sorted(r[0] for r in rows)
        if type == REQUESTED:
            self.psql(dsn, '''
                UPDATE dormant.account a SET request_outbox_id = o.id
                  FROM dormant.outbox o
                 WHERE o.subscriber_id = a.subscriber_id AND o.type = %s
                   AND a.subscriber_id BETWEEN %s AND %s''', (REQUESTED, first, last))
        self.psql(dsn, 'NOTIFY dormant_outbox')
        return ids

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
