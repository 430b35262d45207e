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
 SELECT due.id::text AS subscriber_id, 'erase'::text AS action, NULL::text AS rule,
        'suspended since ' || to_char((due.suspended_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason,
        due.suspended_at AS since FROM due ORDER BY due.suspended_at, due.id
