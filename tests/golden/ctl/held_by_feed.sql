-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
SELECT count(*) AS n FROM "Dm_x".account a
 WHERE a.state = 'pending' AND a.deadline <= now()
   AND a.next_reminder_at IS NULL AND a.reminder_outbox_id IS NULL
   AND a.deadline > coalesce((SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())), '-infinity')
