-- Milliseconds until the next row may be claimed for the active
-- $(channels) (NULL while dormantctl pause is in force: poll at the slow
-- pace).
SELECT CASE WHEN NOT COALESCE((SELECT paused FROM {S}.control LIMIT 1), false)
  THEN (extract(epoch FROM min(GREATEST(next_attempt_at,
          COALESCE(claimed_until, next_attempt_at))) - now()) * 1000)::bigint
  END FROM {S}.outbox
 WHERE delivered_at IS NULL AND dead_at IS NULL
   AND NOT (channels_done @> $(channels)::text[])
