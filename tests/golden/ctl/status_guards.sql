-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT key AS guard,
  CASE WHEN coalesce((value->>'tripped')::boolean, false) THEN 'TRIPPED' ELSE 'ok' END,
  coalesce((SELECT string_agg(k || '=' || v, ' ' ORDER BY k)
              FROM jsonb_each_text(value - 'tripped') AS e(k, v)), '')
  FROM jsonb_each(CASE jsonb_typeof($1::jsonb->'guards') WHEN 'object'
                  THEN $1::jsonb->'guards' ELSE '{}' END)
 WHERE jsonb_typeof(value) = 'object'
 ORDER BY key
