#!/usr/bin/python3
"""Messages to one subscriber arrive in the order they were written
(DESIGN section 6), retries included: a subscription.reactivated waits for
the subscription.suspended before it, however often that one is retried,
while other subscribers' messages are not held up."""

import json

import harness
from delivery_fixtures import DeliveryTestCase
from webhook_sink import WebhookSink, read_whsec


class DeliveryOrder(DeliveryTestCase):

    def test_a_retried_message_is_not_overtaken_by_a_later_one(self):
        sink = WebhookSink(read_whsec(self.secret_path()))
        self.addCleanup(sink.close)
        dsn, conf = self.migrated_db({'webhook.url': sink.url,
                                      'webhook.retry': ['1 second'] * 5})
        suspended = self.add_messages(dsn, 1, 1, type='subscription.suspended')[0]
        other = self.add_messages(dsn, 2, 1, type='subscription.suspended')[0]
        reactivated = self.psql(dsn, '''
            INSERT INTO dormant.outbox (type, subscriber_id, cycle, payload)
            VALUES ('subscription.reactivated', 1, 1, %s) RETURNING id''', (json.dumps(
            {'type': 'subscription.reactivated', 'timestamp': '2026-11-29T00:00:00Z',
             'data': {'subscriber_id': '1', 'email': 'user1@example.com'}}),))[0][0]
        self.assertLess(suspended, reactivated)
        # The first message fails twice and is retried a second later each
        # time; the second is due all along.
        sink.script('msg_%d' % suspended, [500, 503])
        self.start_daemon(conf)
        for oid in (suspended, reactivated, other):
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery of %d' % oid)
        seen = [(r.msg_id, r.status) for r in sink.seen()]
        first_ok = seen.index(('msg_%d' % suspended, 200))
        self.assertEqual([s for s in seen if s[0] == 'msg_%d' % suspended][:2],
                         [('msg_%d' % suspended, 500), ('msg_%d' % suspended, 503)])
        # Nothing of the later message went out before the earlier one was
        # accepted, and it went out once.
        later = [i for i, s in enumerate(seen) if s[0] == 'msg_%d' % reactivated]
        self.assertEqual(len(later), 1, seen)
        self.assertGreater(later[0], first_ok, seen)
        # Another subscriber's message did not wait for the retries.
        self.assertLess(seen.index(('msg_%d' % other, 200)), first_ok, seen)
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
