-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
-- $2 = sample
-- $3 = eligible
WITH est AS (SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples
                                      ELSE pg_relation_size(c.oid) / 100.0 END), 0)::float8 AS n
               FROM pg_class c
              WHERE (c.oid = to_regclass($1::text) AND c.relkind <> 'p')
                 OR c.oid IN (SELECT t.relid FROM pg_partition_tree(to_regclass($1::text)) t
                               WHERE t.isleaf)),
 pct AS (SELECT CASE WHEN est.n <= $2::integer THEN 100.0
                     ELSE 100.0 * $2::integer / est.n END AS p FROM est),
 cnt AS (SELECT count(*) AS sampled, count(*) FILTER (WHERE x.unknown) AS unknown
           FROM (SELECT ((s.plan <> 'staff')) IS NULL AS unknown
                   FROM "public"."subscribers" s TABLESAMPLE SYSTEM ((SELECT p FROM pct)) REPEATABLE (0)
                  LIMIT 2 * $2::integer) x),
 col AS (SELECT DISTINCT k.key
           FROM (SELECT to_jsonb(s) AS j
                   FROM "public"."subscribers" s TABLESAMPLE SYSTEM ((SELECT p FROM pct)) REPEATABLE (0)
                  WHERE ((s.plan <> 'staff')) IS NULL AND (SELECT unknown FROM cnt) > 0 LIMIT 1000) u,
                jsonb_each(u.j) k
          WHERE k.value = 'null'
            AND (strpos($3::text, quote_ident(k.key)) > 0
                 OR (k.key ~ '^[a-z_][a-z0-9_]*$' AND $3::text ~* ('\m' || k.key || '\M'))))
SELECT cnt.sampled, cnt.unknown, round(est.n)::bigint AS estimated_rows,
       pct.p = 100 AND cnt.sampled < 2 * $2::integer AS whole,
       (SELECT string_agg(key, ', ' ORDER BY key) FROM col) AS columns
  FROM cnt, est, pct
