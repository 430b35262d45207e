-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
ALTER INDEX "public"."dm_la" ATTACH PARTITION "public"."dm_la_p1"
