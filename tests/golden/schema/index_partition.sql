-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "dm_la_p1" ON "public"."subs_0" ("la")
