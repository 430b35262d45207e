-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = mark_ts
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
  ORDER BY la, id )
SELECT count(*) FROM due
