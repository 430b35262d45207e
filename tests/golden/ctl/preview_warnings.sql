-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = ids
-- $2 = eligible_set
SELECT (SELECT count(*) FROM "public"."subscribers" s
         WHERE s."id"::text = ANY ($1::text[])
           AND (s."email" IS NULL OR s."email"::text !~ '^[^@[:space:]]+@[^@[:space:]]+$'))
         AS dead_on_arrival,
       CASE WHEN $2::boolean THEN
         (SELECT count(*) FROM (SELECT 1 FROM "public"."subscribers" s WHERE ((s.plan <> 'staff')) IS NULL LIMIT 100000) n)
       END AS eligible_null,
       (SELECT count(*) AS n FROM "Dm_x".account a
 WHERE a.state = 'pending' AND a.deadline <= now()
   AND a.next_reminder_at IS NULL AND a.reminder_outbox_id IS NULL
   AND a.deadline > coalesce((SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())), '-infinity')) AS held_by_feed,
       to_char((SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS horizon
