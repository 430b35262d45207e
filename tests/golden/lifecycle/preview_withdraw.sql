-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = active
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
  ORDER BY x.id )
SELECT w.id::text AS subscriber_id, 'withdraw'::text AS action, NULL::text AS rule,
       'left: ' || w.cause AS reason, NULL::timestamptz AS since FROM w ORDER BY w.id
