-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = active
SELECT count(*) FROM "public"."subscribers" s WHERE s."billing_status" = $1 AND coalesce(((s.plan <> 'staff')), false)
