-- Version 4: the schema records the source table and columns it was
-- migrated for (written by every migrate, schema/record_version.sql), so
-- that a configuration naming another table or other columns is refused
-- (schema/mapping.sql) instead of silently re-targeting billing writes.
ALTER TABLE {S}.meta ADD COLUMN IF NOT EXISTS source_table text,
  ADD COLUMN IF NOT EXISTS source_columns jsonb
