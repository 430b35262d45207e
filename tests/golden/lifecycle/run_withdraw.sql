-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = active
-- $2 = limit
WITH w AS (SELECT * FROM (
  SELECT a.subscriber_id AS id, a.state AS was,
         CASE WHEN s."id" IS NULL THEN 'deleted'
              WHEN NOT coalesce(s."billing_status" = $1, false) THEN 'billing'
              WHEN NOT coalesce((s.plan <> 'staff'), false) THEN 'ineligible'
              WHEN EXISTS (SELECT 1 FROM "Dm_x".exemption e
                            WHERE e.subscriber_id = a.subscriber_id
                              AND (e.until IS NULL OR e.until > now())) THEN 'exempt'
         END AS cause
    FROM "Dm_x".account a LEFT JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
   WHERE a.state = 'pending' AND (a.next_reminder_at <= now() OR a.deadline <= now())) x
  WHERE x.cause IS NOT NULL
  ORDER BY x.id LIMIT $2::integer)
,
acc AS (UPDATE "Dm_x".account a
           SET state = CASE WHEN w.cause = 'deleted' THEN 'erased' ELSE 'active' END,
               next_reminder_at = NULL, recheck_at = NULL, updated_at = now()
          FROM w WHERE a.subscriber_id = w.id AND a.state = w.was
        RETURNING a.subscriber_id, a.cycle, w.cause, w.was),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
obx AS (UPDATE "Dm_x".outbox o
           SET payload = CASE WHEN acc.cause = 'deleted' THEN NULL ELSE o.payload END,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN 'withdrawn: ' || acc.cause ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND ((o.delivered_at IS NULL AND o.dead_at IS NULL
                 AND (o.type LIKE 'confirmation.%' OR acc.cause = 'deleted'))
                OR (acc.cause = 'deleted' AND o.payload IS NOT NULL))),
evx AS (UPDATE "Dm_x".event e SET detail = '{}' FROM acc
         WHERE acc.cause = 'deleted' AND e.subscriber_id = acc.subscriber_id
           AND e.detail <> '{}'),
exm AS (DELETE FROM "Dm_x".exemption x USING acc
         WHERE acc.cause = 'deleted' AND x.subscriber_id = acc.subscriber_id),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, CASE WHEN acc.was = 'pending' THEN 'withdrawn'
                                      ELSE 'erased' END,
              acc.cycle, 'daemon', jsonb_build_object('cause', acc.cause) FROM acc)
SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM w) < $2::integer AS done,
       0 AS notified
