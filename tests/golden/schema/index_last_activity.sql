-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "dormant_subscribers_last_activity" ON "public"."subscribers" ("last_activity_at")
