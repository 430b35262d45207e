-- The start of a migration (in its transaction): one migration at a time,
-- the schema, and the table that records its version and the source id
-- type it was made for.
SELECT pg_advisory_xact_lock(hashtext('dormant migrate'));
CREATE SCHEMA IF NOT EXISTS {S};
CREATE TABLE IF NOT EXISTS {S}.meta (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version integer NOT NULL,
  id_type text NOT NULL,
  migrated_at timestamptz NOT NULL DEFAULT now())
