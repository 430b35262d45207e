-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = keep
-- $2 = limit
WITH old AS (
  SELECT o.id FROM "Dm_x".outbox o
   WHERE (o.delivered_at IS NOT NULL OR o.dead_at IS NOT NULL)
     AND COALESCE(o.delivered_at, o.dead_at) < now() - $1::interval
     AND NOT EXISTS (SELECT 1 FROM "Dm_x".account a
                      WHERE a.subscriber_id = o.subscriber_id AND a.request_outbox_id = o.id
                        AND a.state = 'pending')
   ORDER BY COALESCE(o.delivered_at, o.dead_at) LIMIT $2::int
   FOR UPDATE SKIP LOCKED),
 gone AS (DELETE FROM "Dm_x".outbox WHERE id = ANY (ARRAY(SELECT id FROM old)) RETURNING 1)
 SELECT count(*) FROM gone
