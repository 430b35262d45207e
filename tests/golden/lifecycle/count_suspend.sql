-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
WITH due AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at
               FROM "Dm_x".account a LEFT JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'pending' AND a.deadline <= now()
                AND a.delivered_at IS NOT NULL
                AND NOT coalesce((s."last_activity_at") > a.requested_at, false)
              ORDER BY a.deadline, a.subscriber_id )
SELECT count(*) FROM due
