-- The guards are the object-valued entries of control.guards
-- ({"tripped": ..., readings}), from the status document.
SELECT key AS guard,
  CASE WHEN coalesce((value->>'tripped')::boolean, false) THEN 'TRIPPED' ELSE 'ok' END,
  coalesce((SELECT string_agg(k || '=' || v, ' ' ORDER BY k)
              FROM jsonb_each_text(value - 'tripped') AS e(k, v)), '')
  FROM jsonb_each(CASE jsonb_typeof($(doc)::jsonb->'guards') WHEN 'object'
                  THEN $(doc)::jsonb->'guards' ELSE '{}' END)
 WHERE jsonb_typeof(value) = 'object'
 ORDER BY key
