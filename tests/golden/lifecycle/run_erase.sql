-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = erase
-- $2 = suspended
-- $3 = limit
WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM "Dm_x".account a
               JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'suspended' AND a.suspended_at <= now() - $1::interval
                AND s."billing_status" = $2
              ORDER BY a.suspended_at, a.subscriber_id LIMIT $3::integer FOR UPDATE OF s SKIP LOCKED)
,
acc AS (UPDATE "Dm_x".account a SET state = 'erased', updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'
           AND NOT (SELECT paused FROM "Dm_x".control)
        RETURNING a.subscriber_id, a.cycle,
                  'superseded: the subscriber was erased'::text AS superseded),src AS (UPDATE "public"."subscribers" s SET "email" = NULL, "name" = NULL FROM acc WHERE s."id" = acc.subscriber_id),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
exm AS (DELETE FROM "Dm_x".exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),
obx AS (UPDATE "Dm_x".outbox o SET payload = NULL,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN acc.superseded ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))
        RETURNING 1),
evx AS (UPDATE "Dm_x".event e SET detail = '{}' FROM acc
         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}' RETURNING 1),
msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,
               jsonb_build_object('type', 'subscriber.erased',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', acc.subscriber_id::text))
          FROM acc RETURNING 1),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor)
       SELECT acc.subscriber_id, 'erased', acc.cycle, 'daemon' FROM acc)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $3::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM "Dm_x".control) AS paused
