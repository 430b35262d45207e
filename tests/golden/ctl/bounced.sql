-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = reason
-- $2 = id
SELECT o.id::text, "Dm_x".bounced(o.id, NULLIF($1::text, ''))
  FROM "Dm_x".outbox o
  JOIN "Dm_x".account a ON a.subscriber_id = o.subscriber_id AND a.cycle = o.cycle
 WHERE o.subscriber_id = $2::bigint AND a.state = 'pending'
   AND o.type IN ('confirmation.requested', 'confirmation.reminder')
   AND o.delivered_at IS NOT NULL
 ORDER BY o.id DESC
 LIMIT 1
