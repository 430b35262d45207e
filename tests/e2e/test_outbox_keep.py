"""limits.keep_messages: delivered or dead messages leave the outbox after
it, in bounded batches in the background; the current request of a pending
subscriber, unfinished and recent messages, and the events stay."""

import os
import re

import harness
from delivery_fixtures import DeliveryTestCase

SUSPENDED = 'subscription.suspended'


class KeepMessages(DeliveryTestCase):

    def test_old_finished_messages_are_deleted_in_batches(self):
        dsn, conf = self.migrated_db({})  # outbox-only mode, keep_messages 90 days
        old_done, old_dead, pending_req, recent, unfinished = self.add_messages(dsn, 1, 5)
        self.psql(dsn, '''
            UPDATE dormant.outbox SET delivered_at = now() - interval '100 days'
             WHERE id IN (%(a)s, %(c)s);
            UPDATE dormant.outbox SET dead_at = now() - interval '100 days' WHERE id = %(b)s;
            UPDATE dormant.outbox SET delivered_at = now() - interval '10 days' WHERE id = %(d)s;
            UPDATE dormant.outbox SET created_at = now() - interval '100 days',
                                      next_attempt_at = now() + interval '1 day' WHERE id = %(e)s;
            UPDATE dormant.account SET state = 'suspended'
             WHERE request_outbox_id IN (%(a)s, %(b)s, %(d)s, %(e)s);
            UPDATE dormant.account SET deadline = now() + interval '10 days'
             WHERE request_outbox_id = %(c)s''',
                  {'a': old_done, 'b': old_dead, 'c': pending_req, 'd': recent, 'e': unfinished})
        # More old delivered messages than several batches hold.
        self.psql(dsn, '''
            INSERT INTO dormant.outbox (type, subscriber_id, cycle, delivered_at)
            SELECT %s, 1, 77, now() - interval '91 days' - g * interval '1 second'
              FROM generate_series(1, 1200) g''', (SUSPENDED,))
        self.psql(dsn, '''INSERT INTO dormant.event (subscriber_id, kind, cycle, actor)
                          SELECT g, 'delivered', 77, 'daemon' FROM generate_series(1, 5) g''')
        self.start_daemon(conf)
        self.wait_for(lambda: self.scalar(
            dsn, 'SELECT count(*) FROM dormant.outbox WHERE cycle = 77') == 0,
            timeout=60, what='the old messages deleted')
        self.wait_for(lambda: self.scalar(
            dsn, 'SELECT count(*) FROM dormant.outbox WHERE id IN %s',
            ((old_done, old_dead),)) == 0, timeout=30, what='the old request rows deleted')
        mine = (old_done, old_dead, pending_req, recent, unfinished)
        left = sorted(r[0] for r in self.psql(
            dsn, 'SELECT id FROM dormant.outbox WHERE id IN %s', (mine,)))
        self.assertEqual(left, sorted([pending_req, recent, unfinished]))
        self.assertEqual(self.scalar(
            dsn, "SELECT count(*) FROM dormant.event WHERE kind = 'delivered' AND cycle = 77"), 5)
        # In batches of at most 500 (three of them for 1,202 rows), logged.
        counts = [int(n) for n in re.findall(
            r'deleted old messages.*?messages=(\d+)', self.log_text())]
        self.assertGreaterEqual(len(counts), 3, counts)
        self.assertLessEqual(max(counts), 500)
        self.assertEqual(sum(counts), 1202)
        self.assertEqual(self.stop_daemon(), 0)

    def test_a_batch_reads_the_head_of_a_partial_index(self):
        """The cost of a batch does not grow with the table: the statement
        the daemon runs reads outbox_finished, not the whole outbox."""
        dsn, conf = self.migrated_db({})
        self.psql(dsn, '''
            INSERT INTO dormant.outbox (type, subscriber_id, cycle, delivered_at)
            SELECT %s, g, 1, CASE WHEN g %% 10 = 0 THEN now() - interval '1 day' END
              FROM generate_series(1, 20000) g;
            ANALYZE dormant.outbox''', (SUSPENDED,))
        with open(os.path.join(harness.SOURCE_DIR, 'tests/golden/outbox/purge.sql')) as f:
            sql = f.read().replace('"Dm_x"', 'dormant')
        plan = '\n'.join(r[0] for r in self.psql(
            dsn, 'EXPLAIN ' + sql.replace('$1', "'90 days'").replace('$2', '500')))
        self.assertIn('outbox_finished', plan)
        self.assertNotIn('Seq Scan on outbox', plan)


if __name__ == '__main__':
    harness.main()
