-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = mark_ts
-- $2 = limit
WITH mk AS (SELECT activity_mark FROM "Dm_x".control),
due AS (SELECT * FROM (
  SELECT a.subscriber_id AS id, a.cycle, a.requested_at, (s."last_activity_at") AS la
    FROM "public"."subscribers" s CROSS JOIN LATERAL
         (SELECT * FROM "Dm_x".account a WHERE a.subscriber_id = s."id"
             AND a.state = 'pending' AND (s."last_activity_at") > a.requested_at OFFSET 0) a
   WHERE s."last_activity_at" > (coalesce($1::timestamptz, '-infinity'))
     AND s."last_activity_at" > (coalesce((SELECT activity_mark FROM mk), '-infinity'))
     AND EXISTS (SELECT 1 FROM "Dm_x".account WHERE state = 'pending')
  UNION
  SELECT a.subscriber_id, a.cycle, a.requested_at, (s."last_activity_at")
    FROM "Dm_x".account a JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
   WHERE a.state = 'pending' AND (a.deadline <= now() OR a.next_reminder_at <= now())
     AND (s."last_activity_at") > a.requested_at) u
  ORDER BY la, id LIMIT $2::integer)
,
acc AS (UPDATE "Dm_x".account a SET state = 'active', next_reminder_at = NULL,
                                 updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
        RETURNING a.subscriber_id, a.cycle),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
obx AS (UPDATE "Dm_x".outbox o SET dead_at = now(),
               last_error = 'superseded: the subscriber was active again'
          FROM acc WHERE o.subscriber_id = acc.subscriber_id AND o.delivered_at IS NULL
           AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%'),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, 'resumed', acc.cycle, 'subscriber',
              jsonb_build_object('last_activity_at', due.la,
                                 'requested_at', due.requested_at)
         FROM acc JOIN due ON due.id = acc.subscriber_id),
mark AS (UPDATE "Dm_x".control
            SET activity_mark = (SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now()))
          WHERE (SELECT count(*) FROM due) < $2::integer)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $2::integer AS done,
        0 AS notified
