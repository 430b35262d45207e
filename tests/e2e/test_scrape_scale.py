"""/metrics counts accounts and messages without scanning account or outbox:
statement-level triggers append count deltas to dormant.tally, the delivery
connection folds them once per poll, and a scrape sums a small table."""

import os
import re

import harness
from delivery_fixtures import DeliveryTestCase


def gauges(text):
    return {m.group(1) + '.' + m.group(2): int(m.group(3)) for m in re.finditer(
        r'^dormant_(accounts|outbox_messages)\{state="(\w+)"\} (\d+)$', text, re.M)}


class ScrapeScale(DeliveryTestCase):

    def truth(self, dsn):
        rows = self.psql(dsn, '''
            SELECT 'accounts.' || state, count(*) FROM dormant.account GROUP BY 1
            UNION ALL
            SELECT 'outbox_messages.' || CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                     WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
              FROM dormant.outbox GROUP BY 1''')
        return {k: v for k, v in rows}

    def scraped(self):
        status, _, body = self.http('/metrics')
        self.assertEqual(status, 200)
        return {k: v for k, v in gauges(body.decode()).items()
                if v != 0}

    def test_counts_follow_every_change_and_stay_small(self):
        dsn, conf = self.migrated_db({})
        # Written after migrate: counted by the triggers.
        ids = self.add_messages(dsn, 1, 6)
        self.start_daemon(conf)
        self.wait_http()
        self.wait_for(lambda: self.scraped() == self.truth(dsn), what='first counts')
        # The application's mailer acknowledges two in one statement, one
        # message dies, one account is deleted, rows are purged.
        self.psql(dsn, 'UPDATE dormant.outbox SET delivered_at = now() WHERE id IN %s',
                  ((ids[0], ids[1]),))
        self.psql(dsn, 'UPDATE dormant.outbox SET dead_at = now() WHERE id = %s', (ids[2],))
        self.psql(dsn, "UPDATE dormant.account SET state = 'suspended' WHERE subscriber_id = 4")
        self.psql(dsn, 'DELETE FROM dormant.outbox WHERE id = %s', (ids[5],))
        # The daemon runs meanwhile (it reactivates 4, whose billing is still
        # active, and queues a message): the scrape and the count are two
        # reads, so they are compared until both saw the same writes.
        self.wait_for(lambda: self.scraped() == self.truth(dsn), timeout=10,
                      what='the scrape to match the tables')
        self.assertEqual(self.scraped()['outbox_messages.delivered'], 2)
        # Folded once per poll: one row per state left in the tally.
        self.wait_for(lambda: self.scalar(dsn, 'SELECT count(*) FROM dormant.tally') <= len(
            self.truth(dsn)), timeout=30, what='the tally folded')
        self.wait_for(lambda: self.scraped() == self.truth(dsn), timeout=10,
                      what='the folded scrape to match the tables')
        self.assertEqual(self.stop_daemon(), 0)

    def test_a_scrape_reads_neither_account_nor_outbox(self):
        dsn, conf = self.migrated_db({})
        with open(os.path.join(harness.SOURCE_DIR, 'tests/golden/http/metrics.sql')) as f:
            sql = f.read().replace('"Dm_x"', 'dormant')
        plan = '\n'.join(r[0] for r in self.psql(dsn, 'EXPLAIN ' + sql))
        self.assertNotIn(' on account', plan)
        self.assertNotIn(' on outbox', plan)
        self.assertIn(' on tally', plan)


if __name__ == '__main__':
    harness.main()
