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
-- And an audit trail nobody rewrites (one migration per release: this
-- release's changes are all in this file).
-- Every event records the database role that wrote it (session_user, which
-- the server authenticated), set here whatever the INSERT says. Events
-- written before this version have it NULL.
-- UPDATE is refused except erasure's: emptying detail and changing nothing
-- else (ids and kinds stay). DELETE and TRUNCATE are refused always. The
-- trigger holds for every role, the table's owner included; only DDL gets
-- past it (ALTER TABLE ... DISABLE TRIGGER by the owner, or a superuser's
-- session_replication_role = replica), and no dormant role runs any. The
-- daemon's role gets INSERT, SELECT and UPDATE of detail only (README).
ALTER TABLE {S}.event ADD COLUMN db_user text;
CREATE FUNCTION {S}.event_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.db_user := session_user;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.detail = '{}'::jsonb
       AND (NEW.id, NEW.at, NEW.subscriber_id, NEW.kind, NEW.cycle, NEW.actor, NEW.db_user)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.subscriber_id, OLD.kind, OLD.cycle, OLD.actor, OLD.db_user) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % of %.event refused', TG_OP, TG_TABLE_SCHEMA
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'events are only added; erasure may only empty their detail';
END
$fn$;
CREATE TRIGGER event_append_only BEFORE INSERT OR UPDATE OR DELETE ON {S}.event
  FOR EACH ROW EXECUTE FUNCTION {S}.event_append_only();
CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON {S}.event
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.event_append_only();
COMMENT ON COLUMN {S}.event.db_user IS 'dormant: the database role that wrote the event (session_user)';
-- And the schema records the source table and columns it was
-- migrated for (written by every migrate, schema/record_version.sql), so
-- that a configuration naming another table or other columns is refused
-- (schema/mapping.sql) instead of silently re-targeting billing writes.
ALTER TABLE {S}.meta ADD COLUMN IF NOT EXISTS source_table text,
  ADD COLUMN IF NOT EXISTS source_columns jsonb
