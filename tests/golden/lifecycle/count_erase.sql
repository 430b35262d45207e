-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = erase
-- $2 = suspended
WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM "Dm_x".account a
               JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'suspended' AND a.suspended_at <= now() - $1::interval
                AND s."billing_status" = $2
              ORDER BY a.suspended_at, a.subscriber_id  )
SELECT count(*) FROM due
