"""migrate --create-indexes on a hash-partitioned source table: the index is
built on each partition concurrently and attached to one created ON ONLY the
parent (PostgreSQL cannot build it on the parent concurrently), and the
passes work on it."""

import harness


class PartitionedSource(harness.DaemonTestCase):

    def test_create_indexes_builds_each_partition_and_attaches_it(self):
        dsn = self.fresh_db('partitioned')
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
            CREATE TABLE parts."Subscribers 2" PARTITION OF public.subscribers
              FOR VALUES WITH (MODULUS 3, REMAINDER 2)''')
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


if __name__ == '__main__':
    harness.main()
