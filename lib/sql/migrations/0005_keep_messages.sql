-- Version 5: delivered or dead messages are deleted after
-- limits.keep_messages (outbox/purge.sql), oldest first, in small batches.
-- This index holds only finished rows, ordered by when they finished, so a
-- batch reads its rows from the head of the index whatever the size of the
-- table (and the claim's outbox_due never sees them).
CREATE INDEX IF NOT EXISTS outbox_finished ON {S}.outbox ((COALESCE(delivered_at, dead_at)))
  WHERE delivered_at IS NOT NULL OR dead_at IS NOT NULL;
