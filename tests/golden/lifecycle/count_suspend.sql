-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
WITH cand AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at
                FROM "Dm_x".account a
               WHERE a.state = 'pending' AND a.deadline <= now()
                 AND a.delivered_at IS NOT NULL AND a.next_reminder_at IS NULL
                 AND a.reminder_outbox_id IS NULL AND a.deadline <= (SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now()))
               ORDER BY a.deadline, a.subscriber_id ),
due AS (SELECT c.* FROM cand c LEFT JOIN "public"."subscribers" s ON s."id" = c.id
         WHERE NOT coalesce((s."last_activity_at") > c.requested_at, false))
SELECT count(*) FROM due
