-- Version 3: an audit trail nobody rewrites.
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
