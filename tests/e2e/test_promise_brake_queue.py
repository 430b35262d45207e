"""DESIGN section 1 promise 7 for the deliveries an instance has already
claimed: after `dormantctl pause` at T, no delivery starts later than one
poll interval after T (the time every instance has to read the cluster-wide
pause), even when that instance is the scanning leader in the middle of a
long pass. Found by the model test (tests/model, seed 590841600): a leader
sweeping a crowd of 1,000 learnt of the pause only when its pass ended, and
kept starting the deliveries it had claimed ahead (up to 16 times the
webhook concurrency) seconds after the pause.

The pass is made long by a transaction of the test's that holds the lease
row: the leader's pass (whose transactions renew the lease, lib/lease.h) or
its next poll waits on it, as on a slow sweep of a big table; nothing else
does."""

import time

import harness
import psycopg2
from delivery_fixtures import DeliveryTestCase
from webhook_sink import WebhookSink, read_whsec

POLL = 1.0          # limits.poll_interval, seconds
ANSWER = 0.4        # the receiver's delay: the claimed queue drains slowly


class BrakeQueue(DeliveryTestCase):

    def test_pause_stops_claimed_deliveries_while_the_leader_is_in_a_pass(self):
        sink = WebhookSink(read_whsec(self.secret_path()), delay=ANSWER)
        self.addCleanup(sink.close)
        dsn, conf = self.migrated_db({'webhook.url': sink.url, 'webhook.concurrency': 1,
                                      'limits.poll_interval': '1 second'})
        self.add_messages(dsn, 1, 30)
        self.start_daemon(conf)
        self.wait_for(lambda: len(sink.seen()) >= 2, what='deliveries under way')
        # A long pass: the leader's connection waits on the lease row.
        hold = psycopg2.connect(dsn)
        self.addCleanup(hold.close)
        with hold.cursor() as cur:
            cur.execute('SELECT 1 FROM dormant.lease FOR UPDATE')
        time.sleep(2 * POLL)    # the leader polled, began a pass and waits in it
        rc, out, err = self.ctl('pause', '--reason', 'incident', config=conf)
        self.assertEqual(rc, 0, err)
        paused_at = time.monotonic()
        time.sleep(4 * POLL + 2 * ANSWER)
        late = [r for r in sink.seen() if r.at > paused_at + POLL + ANSWER + 0.5]
        self.assertEqual(late, [], '%d deliveries started more than a poll interval after '
                         'dormantctl pause (%d in all)' % (len(late), len(sink.seen())))
        hold.rollback()
        rc, out, err = self.ctl('resume', config=conf)
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                               ' WHERE delivered_at IS NULL') == 0,
                      timeout=120, what='every message delivered after resume')
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == '__main__':
    harness.main()
