-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE INDEX IF NOT EXISTS outbox_finished ON "Dm_x".outbox ((COALESCE(delivered_at, dead_at)))
  WHERE delivered_at IS NOT NULL OR dead_at IS NOT NULL;
