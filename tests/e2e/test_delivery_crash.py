"""Kill -9 in the middle of a burst of deliveries, restart: every message is
delivered, and none is marked delivered without the receiver's 2xx."""

import signal

import harness
from delivery_fixtures import DeliveryTestCase
from webhook_sink import WebhookSink, read_whsec

BURST = 2000


class CrashDuringBurst(DeliveryTestCase):

    def test_kill_9_then_restart_delivers_everything_exactly_as_acknowledged(self):
        sink = WebhookSink(read_whsec(self.secret_path()), delay=0.001)
        self.addCleanup(sink.close)
        # A short timeout keeps the claim lease (and so the wait for the
        # killed instance's claims to expire) short.
        dsn, conf = self.migrated_db({'webhook.url': sink.url, 'webhook.timeout': '1 second',
                                      'webhook.retry': ['1 second'] * 10,
                                      'webhook.concurrency': 16})
        ids = self.add_messages(dsn, 1, BURST)
        first = self.start_daemon(conf)
        self.wait_for(lambda: len(sink.accepted_ids()) >= BURST // 5, what='a fifth delivered')
        first.send_signal(signal.SIGKILL)
        first.wait()
        held = {'msg_%d' % r[0] for r in self.psql(
            dsn, 'SELECT id FROM dormant.outbox WHERE claimed_by IS NOT NULL'
                 ' AND delivered_at IS NULL')}
        done_at_kill = self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                   ' WHERE delivered_at IS NOT NULL')
        self.assertLess(done_at_kill, BURST, 'the kill came too late to test anything')
        self.start_daemon(conf)
        self.wait_for(lambda: self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                          ' WHERE delivered_at IS NULL') == 0,
                      timeout=120, what='every message delivered after the restart')
        self.assertEqual(self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                     ' WHERE dead_at IS NOT NULL'), 0)
        accepted = sink.accepted_ids()
        delivered = {'msg_%d' % r[0] for r in
                     self.psql(dsn, 'SELECT id FROM dormant.outbox WHERE delivered_at IS NOT NULL')}
        self.assertEqual(delivered, {'msg_%d' % i for i in ids})
        # Nothing marked delivered that the receiver did not accept.
        self.assertEqual(delivered - set(accepted), set())
        self.assertTrue(all(r.sig_ok for r in sink.seen()))
        # Only rows the killed instance held, sent but not yet recorded, may
        # have gone out twice (the receiver dedupes on webhook-id); nothing
        # recorded as delivered was ever sent again.
        twice = {k for k, v in accepted.items() if v > 1}
        self.assertEqual(twice - held, set())
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
