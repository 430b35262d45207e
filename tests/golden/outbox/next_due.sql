-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = channels
SELECT CASE WHEN NOT COALESCE((SELECT paused FROM "Dm_x".control LIMIT 1), false)
  THEN (extract(epoch FROM min(GREATEST(next_attempt_at,
          COALESCE(claimed_until, next_attempt_at))) - now()) * 1000)::bigint
  END FROM "Dm_x".outbox
 WHERE delivered_at IS NULL AND dead_at IS NULL
   AND NOT (channels_done @> $1::text[])
