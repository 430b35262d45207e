-- Milliseconds until the next row may be claimed for the active
-- $(channels) (NULL while dormantctl pause is in force: poll at the slow
-- pace): the head of outbox_due, since a claim moves next_attempt_at to the
-- end of its lease (claimed_until for claims of the previous version). A
-- row waiting behind an older one of its subscriber is not due: the older
-- one's time is the one that counts.
SELECT CASE WHEN NOT COALESCE((SELECT paused FROM {S}.control LIMIT 1), false)
  THEN (SELECT (extract(epoch FROM GREATEST(next_attempt_at,
                  COALESCE(claimed_until, next_attempt_at)) - now()) * 1000)::bigint
          FROM {S}.outbox o
         WHERE delivered_at IS NULL AND dead_at IS NULL
           AND NOT (channels_done @> $(channels)::text[])
           AND NOT EXISTS (SELECT 1 FROM {S}.outbox p
                            WHERE p.subscriber_id = o.subscriber_id AND p.id < o.id
                              AND p.delivered_at IS NULL AND p.dead_at IS NULL)
         ORDER BY next_attempt_at, id LIMIT 1)
  END
