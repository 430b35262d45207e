-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = active
WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM "Dm_x".account a
               JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'suspended' AND s."billing_status" = $1)
SELECT count(*) FROM due
