-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = channels
SELECT CASE WHEN NOT COALESCE((SELECT paused FROM "Dm_x".control LIMIT 1), false)
  THEN (SELECT (extract(epoch FROM GREATEST(next_attempt_at,
                  COALESCE(claimed_until, next_attempt_at)) - now()) * 1000)::bigint
          FROM "Dm_x".outbox o
         WHERE delivered_at IS NULL AND dead_at IS NULL
           AND NOT (channels_done @> $1::text[])
           AND NOT EXISTS (SELECT 1 FROM "Dm_x".outbox p
                            WHERE p.subscriber_id = o.subscriber_id AND p.id < o.id
                              AND p.delivered_at IS NULL AND p.dead_at IS NULL)
         ORDER BY next_attempt_at, id LIMIT 1)
  END
