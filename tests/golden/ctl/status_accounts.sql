-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT k AS state, coalesce(j#>>ARRAY['accounts', k], '0') AS subscribers
  FROM (SELECT $1::jsonb AS j) AS d,
       unnest(ARRAY['active', 'pending', 'suspended', 'erased']) WITH ORDINALITY AS t(k, i)
 ORDER BY i
