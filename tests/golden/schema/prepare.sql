-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
SELECT pg_advisory_xact_lock(hashtext('dormant migrate'));
CREATE SCHEMA IF NOT EXISTS "Dm_x";
CREATE TABLE IF NOT EXISTS "Dm_x".meta (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version integer NOT NULL,
  id_type text NOT NULL,
  migrated_at timestamptz NOT NULL DEFAULT now())
