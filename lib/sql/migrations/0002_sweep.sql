-- Version 2: the sweep's cursor over the source's primary key, the time it
-- is paid up to and its rounds; event kind withdrawn (the constraint lists
-- every kind of DESIGN.md section 6).
ALTER TABLE {S}.control
  ADD COLUMN sweep_cursor {ID_TYPE},
  ADD COLUMN sweep_paid_until timestamptz,
  ADD COLUMN sweep_rows bigint NOT NULL DEFAULT 0,
  ADD COLUMN sweep_last_rows bigint,
  ADD COLUMN sweep_started_at timestamptz,
  ADD COLUMN sweep_done_at timestamptz;
ALTER TABLE {S}.event DROP CONSTRAINT IF EXISTS event_kind_check,
  ADD CONSTRAINT event_kind_check CHECK (kind IN ('requested', 'reminded', 'delivered',
    'bounced', 'confirmed', 'declined', 'resumed', 'withdrawn', 'suspended',
    'used_while_suspended', 'reactivated', 'erased', 'forgotten', 'exempted',
    'unexempted', 'delivery_failed', 'backlog_accepted', 'paused', 'unpaused'));
