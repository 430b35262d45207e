"""migrate --create-indexes on a hash-partitioned source table: the index is
built on each partition concurrently and attached to one created ON ONLY the
parent (PostgreSQL cannot build it on the parent concurrently), and the
passes work on it."""

import harness


class PartitionedSource(harness.DaemonTestCase):

    def partitioned_table(self, name, third='parts."Subscribers 2"'):
        """A fresh database whose source table is hash-partitioned in three,
        the third partition named third; returns its dsn."""
        dsn = self.fresh_db(name)
        self.psql(dsn, '''
            CREATE TABLE public.subscribers (
              id bigint PRIMARY KEY, email text,
              created_at timestamptz NOT NULL DEFAULT now(), last_activity_at timestamptz,
              locale text, billing_status text NOT NULL DEFAULT 'active')
              PARTITION BY HASH (id);
            CREATE SCHEMA parts;
            CREATE TABLE public.subscribers_0 PARTITION OF public.subscribers
              FOR VALUES WITH (MODULUS 3, REMAINDER 0);
            CREATE TABLE public.subscribers_1 PARTITION OF public.subscribers
              FOR VALUES WITH (MODULUS 3, REMAINDER 1);
            CREATE TABLE %s PARTITION OF public.subscribers
              FOR VALUES WITH (MODULUS 3, REMAINDER 2)''' % third)
        return dsn

    def test_create_indexes_builds_each_partition_and_attaches_it(self):
        dsn = self.partitioned_table('partitioned')
        self.add_subscribers(dsn, range(1, 31))
        conf = self.write_config(dsn=dsn)
        rc, out, err = self.ctl('migrate', config=conf)
        self.assertEqual(rc, 0, err)
        self.assertIn('index missing', out)
        rc, out, err = self.ctl('migrate', '--create-indexes', config=conf)
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn('cannot create index on partitioned table', err)
        # The parent's indexes are valid (every partition's attached) and
        # each partition has its own.
        parents = self.psql(dsn, '''
            SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = 'public.subscribers'::regclass AND NOT i.indisprimary
             ORDER BY 1''')
        self.assertEqual(len(parents), 2, parents)
        self.assertTrue(all(valid for _, valid in parents), parents)
        attached = self.scalar(dsn, '''
            SELECT count(*) FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid
             WHERE h.inhparent IN (SELECT indexrelid FROM pg_index
                                    WHERE indrelid = 'public.subscribers'::regclass
                                      AND NOT indisprimary)
               AND i.indisvalid''')
        self.assertEqual(attached, 6)
        # Again: nothing to do, and it says so.
        rc, out, err = self.ctl('migrate', '--create-indexes', config=conf)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count('index ok'), 2, out)
        # The passes work on it: the inactive subscribers are asked.
        rc, out, err = self.ctl('accept-backlog', config=conf)
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0, self.output_tail())
        self.assertEqual(self.scalar(dsn, "SELECT count(*) FROM dormant.account"
                                          " WHERE state = 'pending'"), 30)

    def test_sweep_sizes_its_page_by_the_whole_partitioned_table(self):
        # A row of a partitioned table names its partition (tableoid): the
        # sweep's estimate of the table must add up every partition, or
        # each page is a third of what it owes here and the first round
        # takes three sweep periods instead of one.
        dsn = self.partitioned_table('partitioned_sweep', 'public.subscribers_2')
        self.psql(dsn, '''
            INSERT INTO public.subscribers (id, email, created_at, last_activity_at, locale)
            SELECT g, 'user' || g || '@example.com', now() - interval '3 years',
                   now() - interval '1 day', 'en' FROM generate_series(1, 3000) g;
            ANALYZE public.subscribers''')
        conf = self.write_config(dsn=dsn)
        rc, out, err = self.ctl('migrate', '--create-indexes', config=conf)
        self.assertEqual(rc, 0, out + err)
        # Half of the default sweep_period ("1 day") unpaid: half the table.
        self.psql(dsn, "UPDATE dormant.control SET sweep_paid_until = now() - interval '12 hours'")
        self.start_daemon(conf, '--once')
        self.assertEqual(self.wait_exit(), 0, self.output_tail())
        cursor = self.scalar(dsn, 'SELECT sweep_cursor FROM dormant.control')
        self.assertIsNotNone(cursor)
        self.assertGreaterEqual(cursor, 1400)
        self.assertLessEqual(cursor, 1600)


if __name__ == '__main__':
    harness.main()
