-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
UPDATE "public"."subscribers" s SET "email" = NULL, "name" = NULL WHERE s."id" = $1::bigint
