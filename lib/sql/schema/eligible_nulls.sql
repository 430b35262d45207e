-- The source rows that source.eligible leaves out only because it is NULL
-- (not false): a NULL in a column it compares (s.tier <> 'staff' with tier
-- NULL). Asked at start and by dormantd --check-config, so it must cost
-- little whatever the table's size: it reads a sample of about $(sample)
-- rows (TABLESAMPLE SYSTEM: whole pages at random, REPEATABLE so that two
-- starts say the same), the whole table when the catalogue's estimate of
-- its rows (over its partitions; from its size when never analyzed) is at
-- most that, and never more than twice that (stale statistics). Returns
-- the rows read, those of them left out by a NULL, the estimate of the
-- table's rows, whether it was read whole (the count is exact), and the
-- columns of source.table that are NULL in those rows and that the text of
-- source.eligible ($(eligible)) names, comma-separated, as found in the
-- first 1000 rows left out (NULL: none found, the NULL comes from
-- elsewhere in the predicate).
WITH est AS (SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples
                                      ELSE pg_relation_size(c.oid) / 100.0 END), 0)::float8 AS n
               FROM pg_class c
              WHERE (c.oid = to_regclass($(table)::text) AND c.relkind <> 'p')
                 OR c.oid IN (SELECT t.relid FROM pg_partition_tree(to_regclass($(table)::text)) t
                               WHERE t.isleaf)),
 pct AS (SELECT CASE WHEN est.n <= $(sample)::integer THEN 100.0
                     ELSE 100.0 * $(sample)::integer / est.n END AS p FROM est),
 cnt AS (SELECT count(*) AS sampled, count(*) FILTER (WHERE x.unknown) AS unknown
           FROM (SELECT ({ELIGIBLE}) IS NULL AS unknown
                   FROM {SRC} s TABLESAMPLE SYSTEM ((SELECT p FROM pct)) REPEATABLE (0)
                  LIMIT 2 * $(sample)::integer) x),
 col AS (SELECT DISTINCT k.key
           FROM (SELECT to_jsonb(s) AS j
                   FROM {SRC} s TABLESAMPLE SYSTEM ((SELECT p FROM pct)) REPEATABLE (0)
                  WHERE ({ELIGIBLE}) IS NULL AND (SELECT unknown FROM cnt) > 0 LIMIT 1000) u,
                jsonb_each(u.j) k
          WHERE k.value = 'null'
            AND (strpos($(eligible)::text, quote_ident(k.key)) > 0
                 OR (k.key ~ '^[a-z_][a-z0-9_]*$' AND $(eligible)::text ~* ('\m' || k.key || '\M'))))
SELECT cnt.sampled, cnt.unknown, round(est.n)::bigint AS estimated_rows,
       pct.p = 100 AND cnt.sampled < 2 * $(sample)::integer AS whole,
       (SELECT string_agg(key, ', ' ORDER BY key) FROM col) AS columns
  FROM cnt, est, pct
