-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE INDEX IF NOT EXISTS "dm_la" ON ONLY "public"."subscribers" ("la")
