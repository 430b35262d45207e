-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
WITH due AS (SELECT a.subscriber_id AS id, a.cycle, a.deadline, a.rule,
                    s."email"::text AS email, s."locale"::text AS locale,
                    (s."last_activity_at") AS la, a.next_reminder_at,
                    row_number() OVER (ORDER BY a.next_reminder_at, a.subscriber_id) AS n
               FROM "Dm_x".account a JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'pending' AND a.next_reminder_at <= now()
                AND a.reminder_outbox_id IS NULL
                AND NOT coalesce((s."last_activity_at") > a.requested_at, false)
              ORDER BY a.next_reminder_at, a.subscriber_id )
SELECT count(*) FROM due
