-- Schema version 2, release 0.2: every change of the release in one file,
-- so that an instance runs on its own version and the next (a rolling
-- upgrade). Each block below says what it serves.
--
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
-- A bounce undoes a delivery (DESIGN section 7). A 250 from a relay or a
-- 2xx from a webhook is not receipt: when the mail bounces later, the
-- application (or its mail provider's bounce hook) calls
-- {S}.bounced(outbox_id, reason), and dormantctl bounced does the same.
ALTER TABLE {S}.outbox
  ADD COLUMN bounced_at timestamptz,
  ADD COLUMN bounce_reason text;
COMMENT ON COLUMN {S}.outbox.bounced_at IS 'dormant: when a bounce of this delivered message was reported';
-- The row becomes undelivered and dead (so no channel sends it again: a
-- new message is "dormantctl resend"), a "bounced" event records it, and when it was the request or a reminder of the subscriber's
-- pending cycle, the account goes back to "asked, not delivered": no
-- deadline, no reminder, shown as undeliverable until a new request is
-- delivered; reminders still waiting to be sent are cancelled. Returns
-- false when the row does not exist or its bounce was already reported.
-- SECURITY DEFINER so that the mailer role needs only EXECUTE (granted by
-- the operator; not to PUBLIC).
CREATE FUNCTION {S}.bounced(outbox_id bigint, reason text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  o record;
BEGIN
  UPDATE {S}.outbox b
     SET bounced_at = now(), bounce_reason = reason, delivered_at = NULL,
         dead_at = now(), last_error = 'bounced: ' || coalesce(reason, 'reported'),
         claimed_by = NULL, claimed_until = NULL
   WHERE b.id = outbox_id AND b.bounced_at IS NULL
  RETURNING b.id, b.type, b.subscriber_id, b.cycle INTO o;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
  VALUES (o.subscriber_id, 'bounced', o.cycle, session_user::text,
          jsonb_build_object('outbox_id', o.id, 'type', o.type, 'reason', reason));
  IF o.type IN ('confirmation.requested', 'confirmation.reminder') THEN
    UPDATE {S}.account a
       SET delivered_at = NULL, deadline = NULL, next_reminder_at = NULL,
           request_outbox_id = o.id, updated_at = now()
     WHERE a.subscriber_id = o.subscriber_id AND a.cycle = o.cycle AND a.state = 'pending';
    IF FOUND THEN
      UPDATE {S}.outbox r
         SET dead_at = now(), last_error = 'cancelled: the request bounced'
       WHERE r.subscriber_id = o.subscriber_id AND r.cycle = o.cycle
         AND r.type = 'confirmation.reminder' AND r.id <> o.id
         AND r.delivered_at IS NULL AND r.dead_at IS NULL;
    END IF;
  END IF;
  RETURN true;
END
$fn$;
REVOKE ALL ON FUNCTION {S}.bounced(bigint, text) FROM PUBLIC;
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
  ADD COLUMN IF NOT EXISTS source_columns jsonb;
-- Also version 2 (issue 11): every reminder keeps its notice (promise 3),
-- late activity is reported (promise 1). The confirmation period and
-- reminder offsets in force at a request's delivery stay with it; one
-- reminder at a time is out (reminder_outbox_id), and its delivery
-- schedules the next and moves the deadline when it came late; every
-- delivery is an event.
ALTER TABLE {S}.account
  ADD COLUMN confirm_within interval,
  ADD COLUMN reminders interval[],
  ADD COLUMN reminder_outbox_id bigint,
  ADD COLUMN used_while_suspended_at timestamptz;
COMMENT ON COLUMN {S}.account.reminders IS
  'dormant: the reminder offsets of this request, longest first, fixed at its delivery';
UPDATE {S}.account a SET confirm_within = c.confirm_within,
       reminders = ARRAY(SELECT r FROM unnest(c.reminders) r ORDER BY r DESC)
  FROM {S}.control c WHERE a.state = 'pending' AND a.delivered_at IS NOT NULL;
-- And the deadline is never earlier than the end of the day its messages
-- state (promise 3): for a confirmation period of a day or more, a deadline
-- is moved to the next midnight in email.timezone (control.message_zone,
-- written by every pass), and a message shows the minute before it ("29
-- December at 23:59"); for a shorter period (a test's or a demo's) messages
-- state the time to the second, and the deadline is the end of a second. A
-- deadline already at such an end stays where it is.
ALTER TABLE {S}.control ADD COLUMN message_zone text NOT NULL DEFAULT 'UTC';
CREATE FUNCTION {S}.deadline_end(t timestamptz, period interval) RETURNS timestamptz
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
  SELECT CASE WHEN period >= interval '1 day'
              THEN (date_trunc('day', (t - interval '1 microsecond') AT TIME ZONE z.zone)
                    + interval '1 day') AT TIME ZONE z.zone
              ELSE date_trunc('second', t - interval '1 microsecond') + interval '1 second' END
    FROM (SELECT coalesce((SELECT message_zone FROM {S}.control LIMIT 1), 'UTC') AS zone) z
$fn$;
-- A delivery, by a built-in channel (outbox/outcome.sql) or by the
-- application's mailer acknowledging a row, is recorded once per statement
-- for every row it delivered, set-based: a "delivered" event each; a
-- request starts the grace period (the deadline is the later of delivery
-- plus the confirmation period and the deadline the message stated, at the
-- end of its day, and the reminder offsets in force stay with it); a
-- reminder delivered later than deadline - r moves the deadline to delivery
-- + r (the end of its day) and schedules the next.
-- A statement that delivers nothing (a claim, a retry) costs one scan of
-- its own transition rows. The trigger runs as the schema's owner (SECURITY
-- DEFINER), so that the application's mailer needs the right to acknowledge
-- a message and nothing on dormant's other tables. (Transition tables
-- cannot go with UPDATE OF a column list, hence every UPDATE.)
DROP TRIGGER outbox_delivered ON {S}.outbox;
CREATE OR REPLACE FUNCTION {S}.outbox_delivered() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
  SELECT n.subscriber_id, 'delivered', n.cycle, 'daemon',
         jsonb_build_object('outbox_id', n.id, 'type', n.type,
           'channel', CASE WHEN cardinality(n.channels_done) = 0 THEN 'outbox'
                           ELSE array_to_string(n.channels_done, ',') END,
           'at', n.delivered_at)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
   WHERE n.delivered_at IS NOT NULL AND o.delivered_at IS NULL
   ORDER BY n.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE {S}.account a
     SET delivered_at = d.delivered_at, deadline = d.dl, confirm_within = d.cw,
         reminders = d.rem, reminders_sent = 0, reminder_outbox_id = NULL,
         next_reminder_at = d.dl - d.rem[1], updated_at = now()
    FROM (SELECT n.id, n.subscriber_id, n.delivered_at, c.cw, c.rem,
                 {S}.deadline_end(GREATEST(n.delivered_at + c.cw,
                                           (n.payload #>> '{data,deadline}')::timestamptz),
                                  c.cw) AS dl
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           CROSS JOIN (SELECT confirm_within AS cw,
                              ARRAY(SELECT r FROM unnest(reminders) r ORDER BY r DESC) AS rem
                         FROM {S}.control LIMIT 1) c
           WHERE n.delivered_at IS NOT NULL AND o.delivered_at IS NULL
             AND n.type = 'confirmation.requested') d
   WHERE a.subscriber_id = d.subscriber_id AND a.request_outbox_id = d.id
     AND a.state = 'pending' AND a.delivered_at IS NULL;
  -- Delivered later than deadline - r: the deadline moves to delivery + r,
  -- to the end of its day; never earlier than the one this reminder stated.
  UPDATE {S}.account a
     SET deadline = d.dl, next_reminder_at = d.dl - a.reminders[a.reminders_sent + 1],
         reminder_outbox_id = NULL, updated_at = now()
    FROM (SELECT n.id, n.subscriber_id,
                 GREATEST(b.deadline, (n.payload #>> '{data,deadline}')::timestamptz,
                          {S}.deadline_end(n.delivered_at + b.reminders[b.reminders_sent],
                                           b.confirm_within)) AS dl
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN {S}.account b ON b.subscriber_id = n.subscriber_id AND b.reminder_outbox_id = n.id
           WHERE n.delivered_at IS NOT NULL AND o.delivered_at IS NULL
             AND n.type = 'confirmation.reminder') d
   WHERE a.subscriber_id = d.subscriber_id AND a.reminder_outbox_id = d.id
     AND a.state = 'pending';
  RETURN NULL;
END
$fn$;
CREATE TRIGGER outbox_delivered AFTER UPDATE ON {S}.outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.outbox_delivered();
-- A delivered message no longer carries its link (and the token in it).
-- The daemon's
-- outcome statement drops it itself, so that for its rows the WHEN clause
-- is false and no function runs; the mailer's acknowledgement runs this.
CREATE FUNCTION {S}.outbox_forget_link() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.payload := NEW.payload #- '{data,confirm_url}';
  RETURN NEW;
END
$fn$;
CREATE TRIGGER outbox_forget_link BEFORE UPDATE OF delivered_at ON {S}.outbox
  FOR EACH ROW WHEN (NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL
                     AND NEW.payload #> '{data,confirm_url}' IS NOT NULL)
  EXECUTE FUNCTION {S}.outbox_forget_link();

-- And the scanning lead is a lease row, not a session lock, so that it
-- holds behind PgBouncer in transaction pooling; and every instance
-- reports into the database (dormantctl status, /healthz). Only adds.
CREATE TABLE {S}.lease (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  holder text,
  epoch bigint NOT NULL DEFAULT 0,
  acquired_at timestamptz,
  expires_at timestamptz NOT NULL DEFAULT '-infinity');
COMMENT ON TABLE {S}.lease IS
  'dormant: the scanning lead: holder instance, fencing epoch (one more at each takeover), expiry';
INSERT INTO {S}.lease DEFAULT VALUES;

CREATE TABLE {S}.instance (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  version text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  stale_at timestamptz NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  paused_at timestamptz,
  disabled_endpoints text[] NOT NULL DEFAULT '{}',
  dry_run boolean NOT NULL DEFAULT false);
COMMENT ON TABLE {S}.instance IS
  'dormant: one row per running dormantd, written at each poll; stale past stale_at';

-- The fence of every pass transaction: renews the lease of instance
-- p_holder at epoch p_epoch for p_lease, or fails (SQLSTATE DL001) when that
-- lease lapsed or another instance took over, so that the transaction
-- commits nothing. The row lock it takes makes a takeover wait for the
-- transaction's end.
CREATE FUNCTION {S}.lease_fence(p_holder text, p_epoch bigint, p_lease interval)
  RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE {S}.lease l SET expires_at = clock_timestamp() + p_lease
   WHERE l.holder = p_holder AND l.epoch = p_epoch AND l.expires_at > clock_timestamp();
  IF NOT FOUND THEN
    RAISE EXCEPTION 'instance % no longer holds the scanning lease of epoch %', p_holder, p_epoch
      USING ERRCODE = 'DL001';
  END IF;
END
$fn$;
-- The claim reads due rows in (next_attempt_at, id) order and resumes after
-- the last one it read (outbox/claim.sql): a position needs both columns,
-- since a pass writes thousands of rows with one next_attempt_at.
DROP INDEX {S}.outbox_due;
CREATE INDEX outbox_due ON {S}.outbox (next_attempt_at, id)
  WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Delivered or dead messages are deleted after
-- limits.keep_messages (outbox/purge.sql), oldest first, in small batches.
-- This index holds only finished rows, ordered by when they finished, so a
-- batch reads its rows from the head of the index whatever the size of the
-- table (and the claim's outbox_due never sees them).
CREATE INDEX IF NOT EXISTS outbox_finished ON {S}.outbox ((COALESCE(delivered_at, dead_at)))
  WHERE delivered_at IS NOT NULL OR dead_at IS NOT NULL;

-- Counts that a scrape reads in constant time. Every statement
-- that inserts, updates or deletes accounts or outbox rows appends, from a
-- statement-level trigger over its transition tables, one row per state
-- whose count it changed (set-based: no per-row work). A scrape sums the
-- rows (http/metrics.sql); the delivery connection folds them into one row
-- per state once per poll (outbox/tally_fold.sql), so the table stays as
-- small as the changes of one poll interval. Appending, never updating a
-- shared row, keeps transactions from queueing on a counter: a long pass
-- never holds up an answer on the page. SECURITY DEFINER, so that the
-- application's mailer acknowledging a message needs no right on it.
CREATE TABLE {S}.tally (
  kind text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL);
COMMENT ON TABLE {S}.tally IS 'dormant: account and outbox counts by state, as deltas';
-- A message's state as /metrics and dormantctl status name it.
CREATE FUNCTION {S}.outbox_state(delivered_at timestamptz, dead_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
              WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END
$fn$;
INSERT INTO {S}.tally
SELECT 'account', state, count(*) FROM {S}.account GROUP BY state
UNION ALL
SELECT 'outbox', {S}.outbox_state(delivered_at, dead_at), count(*) FROM {S}.outbox GROUP BY 2;

CREATE FUNCTION {S}.tally_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {S}.tally SELECT 'account', state, count(*) FROM new_rows GROUP BY state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {S}.tally SELECT 'account', state, -count(*) FROM old_rows GROUP BY state;
  ELSE
    INSERT INTO {S}.tally
    SELECT 'account', state, sum(d) FROM (
      SELECT state, -1 AS d FROM old_rows UNION ALL SELECT state, 1 FROM new_rows) x
     GROUP BY state HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_account_insert AFTER INSERT ON {S}.account
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();
CREATE TRIGGER tally_account_update AFTER UPDATE ON {S}.account
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();
CREATE TRIGGER tally_account_delete AFTER DELETE ON {S}.account
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_account();

CREATE FUNCTION {S}.tally_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {S}.tally
    SELECT 'outbox', {S}.outbox_state(delivered_at, dead_at), count(*) FROM new_rows GROUP BY 2;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO {S}.tally
    SELECT 'outbox', {S}.outbox_state(delivered_at, dead_at), -count(*) FROM old_rows GROUP BY 2;
  ELSE
    INSERT INTO {S}.tally
    SELECT 'outbox', s, sum(d) FROM (
      SELECT {S}.outbox_state(delivered_at, dead_at) AS s, -1 AS d FROM old_rows
      UNION ALL SELECT {S}.outbox_state(delivered_at, dead_at), 1 FROM new_rows) x
     GROUP BY s HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_outbox_insert AFTER INSERT ON {S}.outbox
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();
CREATE TRIGGER tally_outbox_update AFTER UPDATE ON {S}.outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();
CREATE TRIGGER tally_outbox_delete AFTER DELETE ON {S}.outbox
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {S}.tally_outbox();

-- The reason of dormantctl pause --reason (issue 16) lives in the control
-- row beside who paused and when (paused_by, paused_at): /healthz and
-- status read it there instead of searching the event log backwards for the
-- newest "paused" event; dormantctl resume clears it. A schema paused at
-- this migration keeps the reason its pause event gave.
ALTER TABLE {S}.control ADD COLUMN paused_reason text;
UPDATE {S}.control c
   SET paused_reason = (SELECT e.detail->>'reason' FROM {S}.event e
                         WHERE e.kind = 'paused' ORDER BY e.id DESC LIMIT 1)
 WHERE c.paused;
