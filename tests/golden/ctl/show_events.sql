-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT to_char((e->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), e->>'kind', e->>'cycle', e->>'actor',
  CASE WHEN e->'detail' = '{}' THEN NULL ELSE e->>'detail' END
  FROM jsonb_array_elements($1::jsonb->'events') e
