-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT m->>'id', m->>'type', to_char((m->>'created_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'),
  CASE WHEN m->>'delivered_at' IS NOT NULL THEN 'delivered ' || to_char((m->>'delivered_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"')
       WHEN m->>'dead_at' IS NOT NULL THEN 'DEAD ' || to_char((m->>'dead_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"')
       ELSE 'pending, next try ' || to_char((m->>'next_attempt_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') END,
  m->>'attempts', m->>'last_error'
  FROM jsonb_array_elements($1::jsonb->'messages') m
