-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
ALTER TABLE "Dm_x".control
  ADD COLUMN sweep_cursor bigint,
  ADD COLUMN sweep_paid_until timestamptz,
  ADD COLUMN sweep_rows bigint NOT NULL DEFAULT 0,
  ADD COLUMN sweep_last_rows bigint,
  ADD COLUMN sweep_started_at timestamptz,
  ADD COLUMN sweep_done_at timestamptz;
ALTER TABLE "Dm_x".event DROP CONSTRAINT IF EXISTS event_kind_check,
  ADD CONSTRAINT event_kind_check CHECK (kind IN ('requested', 'reminded', 'delivered',
    'bounced', 'confirmed', 'declined', 'resumed', 'withdrawn', 'suspended',
    'used_while_suspended', 'reactivated', 'erased', 'forgotten', 'exempted',
    'unexempted', 'delivery_failed', 'backlog_accepted', 'paused', 'unpaused'));
