"""Outbox-only mode, pause, dry run, --once and graceful stop, as seen by a
receiver and the database."""

import signal
import time

import harness
from delivery_fixtures import DeliveryTestCase
from webhook_sink import WebhookSink, read_whsec


class DeliveryModes(DeliveryTestCase):

    def with_sink(self, delay=0.0, extra=None):
        self.sink = WebhookSink(read_whsec(self.secret_path()), delay=delay)
        self.addCleanup(self.sink.close)
        overrides = {'webhook.url': self.sink.url, 'webhook.retry': ['1 second'] * 3}
        overrides.update(extra or {})
        return self.migrated_db(overrides)

    def test_outbox_only_mode_leaves_rows_to_the_application(self):
        dsn, conf = self.migrated_db({})
        (oid,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(conf)
        self.wait_log(r'outbox-only mode')
        time.sleep(2)  # two retry-timer periods: nothing may touch the row
        row = self.outbox(dsn, oid)
        self.assertIsNone(row['claimed_by'])
        self.assertIsNone(row['delivered_at'])
        self.assertEqual(row['attempts'], 0)
        self.assertNotIn('deadline', row['payload']['data'])
        # The application's mailer acknowledges (the README's example):
        # that starts the grace period and retires the link.
        self.psql(dsn, 'UPDATE dormant.outbox SET delivered_at = now() WHERE id = %s', (oid,))
        gap = self.scalar(dsn, 'SELECT a.deadline - o.delivered_at FROM dormant.account a'
                          ' JOIN dormant.outbox o ON o.id = a.request_outbox_id'
                          ' WHERE o.id = %s', (oid,))
        self.assertEqual(gap.days, 30)
        self.assertNotIn('confirm_url', self.outbox(dsn, oid)['payload']['data'])
        self.assertEqual(self.stop_daemon(), 0)

    def test_pause_signal_holds_deliveries_until_resumed(self):
        dsn, conf = self.with_sink()
        self.start_daemon(conf)
        self.wait_log(r'msg="?started')
        self.signal_daemon(signal.SIGUSR1)
        self.wait_log(r'paused by SIGUSR1')
        ids = self.add_messages(dsn, 1, 3)
        time.sleep(3)
        self.assertEqual(self.sink.seen(), [])
        self.signal_daemon(signal.SIGUSR2)
        for oid in ids:
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery after resume')
        self.assertEqual(len(self.sink.seen()), 3)

    def test_dormantctl_pause_holds_deliveries_cluster_wide(self):
        dsn, conf = self.with_sink()
        rc, _, err = self.ctl('pause', '--reason', 'mailer incident', config=conf)
        self.assertEqual(rc, 0, err)
        ids = self.add_messages(dsn, 1, 3)
        self.start_daemon(conf)
        self.wait_log(r'msg="?pass done.*paused=true')
        time.sleep(3)
        self.assertEqual(self.sink.seen(), [])
        self.assertEqual(self.scalar(dsn, 'SELECT count(*) FROM dormant.outbox'
                                     ' WHERE claimed_by IS NOT NULL OR attempts > 0'), 0)
        rc, _, err = self.ctl('resume', config=conf)
        self.assertEqual(rc, 0, err)
        for oid in ids:
            self.wait_row(dsn, oid, lambda r: r['delivered_at'], 'delivery after resume')

    def test_dry_run_sends_and_writes_nothing(self):
        dsn, conf = self.with_sink()
        ids = self.add_messages(dsn, 1, 3)
        self.start_daemon(conf, '--dry-run')
        self.wait_log(r'dry run: no message is delivered')
        time.sleep(2)
        self.assertEqual(self.sink.seen(), [])
        for oid in ids:
            row = self.outbox(dsn, oid)
            self.assertIsNone(row['claimed_by'])
            self.assertEqual(row['attempts'], 0)
        self.assertEqual(self.stop_daemon(), 0)

    def test_graceful_stop_waits_for_deliveries_in_flight(self):
        dsn, conf = self.with_sink(delay=2.0)
        (oid,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(conf)
        self.wait_for(lambda: self.sink.seen(), what='the request to arrive')
        self.assertEqual(self.stop_daemon(), 0)
        # The answer came after SIGTERM; the daemon waited for it and
        # recorded it before exiting.
        row = self.outbox(dsn, oid)
        self.assertIsNotNone(row['delivered_at'])
        self.assertEqual(self.sink.accepted_ids(), {'msg_%d' % oid: 1})

    def test_once_delivers_what_is_due_and_exits(self):
        dsn, conf = self.with_sink()
        ids = self.add_messages(dsn, 1, 5)
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0)
        for oid in ids:
            self.assertIsNotNone(self.outbox(dsn, oid)['delivered_at'])
        self.assertEqual(len(self.sink.accepted_ids()), 5)

    def test_once_in_outbox_only_mode_exits_at_once(self):
        dsn, conf = self.migrated_db({})
        (oid,) = self.add_messages(dsn, 1, 1)
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0)
        self.assertIsNone(self.outbox(dsn, oid)['claimed_by'])


if __name__ == '__main__':
    harness.main()
