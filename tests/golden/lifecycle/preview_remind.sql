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
 SELECT due.id::text AS subscriber_id, 'remind'::text AS action, due.rule,
        'deadline ' || to_char((due.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason, due.next_reminder_at AS since
   FROM due ORDER BY due.next_reminder_at, due.id
