-- The events of the show document, one line each.
SELECT to_char((e->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), e->>'kind', e->>'cycle', e->>'actor',
  CASE WHEN e->'detail' = '{}' THEN NULL ELSE e->>'detail' END
  FROM jsonb_array_elements($(doc)::jsonb->'events') e
