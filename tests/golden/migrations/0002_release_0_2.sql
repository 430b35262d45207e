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




ALTER TABLE "Dm_x".outbox
  ADD COLUMN bounced_at timestamptz,
  ADD COLUMN bounce_reason text;
COMMENT ON COLUMN "Dm_x".outbox.bounced_at IS 'dormant: when a bounce of this delivered message was reported';








CREATE FUNCTION "Dm_x".bounced(outbox_id bigint, reason text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  o record;
BEGIN
  UPDATE "Dm_x".outbox b
     SET bounced_at = now(), bounce_reason = reason, delivered_at = NULL,
         dead_at = now(), last_error = 'bounced: ' || coalesce(reason, 'reported'),
         claimed_by = NULL, claimed_until = NULL
   WHERE b.id = outbox_id AND b.bounced_at IS NULL
  RETURNING b.id, b.type, b.subscriber_id, b.cycle INTO o;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
  VALUES (o.subscriber_id, 'bounced', o.cycle, session_user::text,
          jsonb_build_object('outbox_id', o.id, 'type', o.type, 'reason', reason));
  IF o.type IN ('confirmation.requested', 'confirmation.reminder') THEN
    UPDATE "Dm_x".account a
       SET delivered_at = NULL, deadline = NULL, next_reminder_at = NULL,
           request_outbox_id = o.id, updated_at = now()
     WHERE a.subscriber_id = o.subscriber_id AND a.cycle = o.cycle AND a.state = 'pending';
    IF FOUND THEN
      UPDATE "Dm_x".outbox r
         SET dead_at = now(), last_error = 'cancelled: the request bounced'
       WHERE r.subscriber_id = o.subscriber_id AND r.cycle = o.cycle
         AND r.type = 'confirmation.reminder' AND r.id <> o.id
         AND r.delivered_at IS NULL AND r.dead_at IS NULL;
    END IF;
  END IF;
  RETURN true;
END
$fn$;
REVOKE ALL ON FUNCTION "Dm_x".bounced(bigint, text) FROM PUBLIC;











ALTER TABLE "Dm_x".event ADD COLUMN db_user text;
CREATE FUNCTION "Dm_x".event_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE TRIGGER event_append_only BEFORE INSERT OR UPDATE OR DELETE ON "Dm_x".event
  FOR EACH ROW EXECUTE FUNCTION "Dm_x".event_append_only();
CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON "Dm_x".event
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".event_append_only();
COMMENT ON COLUMN "Dm_x".event.db_user IS 'dormant: the database role that wrote the event (session_user)';




ALTER TABLE "Dm_x".meta ADD COLUMN IF NOT EXISTS source_table text,
  ADD COLUMN IF NOT EXISTS source_columns jsonb;






ALTER TABLE "Dm_x".account
  ADD COLUMN confirm_within interval,
  ADD COLUMN reminders interval[],
  ADD COLUMN reminder_outbox_id bigint,
  ADD COLUMN used_while_suspended_at timestamptz;
COMMENT ON COLUMN "Dm_x".account.reminders IS
  'dormant: the reminder offsets of this request, longest first, fixed at its delivery';
UPDATE "Dm_x".account a SET confirm_within = c.confirm_within,
       reminders = ARRAY(SELECT r FROM unnest(c.reminders) r ORDER BY r DESC)
  FROM "Dm_x".control c WHERE a.state = 'pending' AND a.delivered_at IS NOT NULL;







ALTER TABLE "Dm_x".control ADD COLUMN message_zone text NOT NULL DEFAULT 'UTC';
CREATE FUNCTION "Dm_x".deadline_end(t timestamptz, period interval) RETURNS timestamptz
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
  SELECT CASE WHEN period >= interval '1 day'
              THEN (date_trunc('day', (t - interval '1 microsecond') AT TIME ZONE z.zone)
                    + interval '1 day') AT TIME ZONE z.zone
              ELSE date_trunc('second', t - interval '1 microsecond') + interval '1 second' END
    FROM (SELECT coalesce((SELECT message_zone FROM "Dm_x".control LIMIT 1), 'UTC') AS zone) z
$fn$;













DROP TRIGGER outbox_delivered ON "Dm_x".outbox;
CREATE OR REPLACE FUNCTION "Dm_x".outbox_delivered() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
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
  UPDATE "Dm_x".account a
     SET delivered_at = d.delivered_at, deadline = d.dl, confirm_within = d.cw,
         reminders = d.rem, reminders_sent = 0, reminder_outbox_id = NULL,
         next_reminder_at = d.dl - d.rem[1], updated_at = now()
    FROM (SELECT n.id, n.subscriber_id, n.delivered_at, c.cw, c.rem,
                 "Dm_x".deadline_end(GREATEST(n.delivered_at + c.cw,
                                           (n.payload #>> '{data,deadline}')::timestamptz),
                                  c.cw) AS dl
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           CROSS JOIN (SELECT confirm_within AS cw,
                              ARRAY(SELECT r FROM unnest(reminders) r ORDER BY r DESC) AS rem
                         FROM "Dm_x".control LIMIT 1) c
           WHERE n.delivered_at IS NOT NULL AND o.delivered_at IS NULL
             AND n.type = 'confirmation.requested') d
   WHERE a.subscriber_id = d.subscriber_id AND a.request_outbox_id = d.id
     AND a.state = 'pending' AND a.delivered_at IS NULL;


  UPDATE "Dm_x".account a
     SET deadline = d.dl, next_reminder_at = d.dl - a.reminders[a.reminders_sent + 1],
         reminder_outbox_id = NULL, updated_at = now()
    FROM (SELECT n.id, n.subscriber_id,
                 GREATEST(b.deadline, (n.payload #>> '{data,deadline}')::timestamptz,
                          "Dm_x".deadline_end(n.delivered_at + b.reminders[b.reminders_sent],
                                           b.confirm_within)) AS dl
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN "Dm_x".account b ON b.subscriber_id = n.subscriber_id AND b.reminder_outbox_id = n.id
           WHERE n.delivered_at IS NOT NULL AND o.delivered_at IS NULL
             AND n.type = 'confirmation.reminder') d
   WHERE a.subscriber_id = d.subscriber_id AND a.reminder_outbox_id = d.id
     AND a.state = 'pending';
  RETURN NULL;
END
$fn$;
CREATE TRIGGER outbox_delivered AFTER UPDATE ON "Dm_x".outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".outbox_delivered();




CREATE FUNCTION "Dm_x".outbox_forget_link() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.payload := NEW.payload #- '{data,confirm_url}';
  RETURN NEW;
END
$fn$;
CREATE TRIGGER outbox_forget_link BEFORE UPDATE OF delivered_at ON "Dm_x".outbox
  FOR EACH ROW WHEN (NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL
                     AND NEW.payload #> '{data,confirm_url}' IS NOT NULL)
  EXECUTE FUNCTION "Dm_x".outbox_forget_link();




CREATE TABLE "Dm_x".lease (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  holder text,
  epoch bigint NOT NULL DEFAULT 0,
  acquired_at timestamptz,
  expires_at timestamptz NOT NULL DEFAULT '-infinity');
COMMENT ON TABLE "Dm_x".lease IS
  'dormant: the scanning lead: holder instance, fencing epoch (one more at each takeover), expiry';
INSERT INTO "Dm_x".lease DEFAULT VALUES;

CREATE TABLE "Dm_x".instance (
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
COMMENT ON TABLE "Dm_x".instance IS
  'dormant: one row per running dormantd, written at each poll; stale past stale_at';






CREATE FUNCTION "Dm_x".lease_fence(p_holder text, p_epoch bigint, p_lease interval)
  RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE "Dm_x".lease l SET expires_at = clock_timestamp() + p_lease
   WHERE l.holder = p_holder AND l.epoch = p_epoch AND l.expires_at > clock_timestamp();
  IF NOT FOUND THEN
    RAISE EXCEPTION 'instance % no longer holds the scanning lease of epoch %', p_holder, p_epoch
      USING ERRCODE = 'DL001';
  END IF;
END
$fn$;



DROP INDEX "Dm_x".outbox_due;
CREATE INDEX outbox_due ON "Dm_x".outbox (next_attempt_at, id)
  WHERE delivered_at IS NULL AND dead_at IS NULL;





CREATE INDEX IF NOT EXISTS outbox_finished ON "Dm_x".outbox ((COALESCE(delivered_at, dead_at)))
  WHERE delivered_at IS NOT NULL OR dead_at IS NOT NULL;











CREATE TABLE "Dm_x".tally (
  kind text NOT NULL,
  label text NOT NULL,
  n bigint NOT NULL);
COMMENT ON TABLE "Dm_x".tally IS 'dormant: account and outbox counts by state, as deltas';

CREATE FUNCTION "Dm_x".outbox_state(delivered_at timestamptz, dead_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
              WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END
$fn$;
INSERT INTO "Dm_x".tally
SELECT 'account', state, count(*) FROM "Dm_x".account GROUP BY state
UNION ALL
SELECT 'outbox', "Dm_x".outbox_state(delivered_at, dead_at), count(*) FROM "Dm_x".outbox GROUP BY 2;

CREATE FUNCTION "Dm_x".tally_account() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Dm_x".tally SELECT 'account', state, count(*) FROM new_rows GROUP BY state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Dm_x".tally SELECT 'account', state, -count(*) FROM old_rows GROUP BY state;
  ELSE
    INSERT INTO "Dm_x".tally
    SELECT 'account', state, sum(d) FROM (
      SELECT state, -1 AS d FROM old_rows UNION ALL SELECT state, 1 FROM new_rows) x
     GROUP BY state HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_account_insert AFTER INSERT ON "Dm_x".account
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();
CREATE TRIGGER tally_account_update AFTER UPDATE ON "Dm_x".account
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();
CREATE TRIGGER tally_account_delete AFTER DELETE ON "Dm_x".account
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_account();

CREATE FUNCTION "Dm_x".tally_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "Dm_x".tally
    SELECT 'outbox', "Dm_x".outbox_state(delivered_at, dead_at), count(*) FROM new_rows GROUP BY 2;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "Dm_x".tally
    SELECT 'outbox', "Dm_x".outbox_state(delivered_at, dead_at), -count(*) FROM old_rows GROUP BY 2;
  ELSE
    INSERT INTO "Dm_x".tally
    SELECT 'outbox', s, sum(d) FROM (
      SELECT "Dm_x".outbox_state(delivered_at, dead_at) AS s, -1 AS d FROM old_rows
      UNION ALL SELECT "Dm_x".outbox_state(delivered_at, dead_at), 1 FROM new_rows) x
     GROUP BY s HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tally_outbox_insert AFTER INSERT ON "Dm_x".outbox
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();
CREATE TRIGGER tally_outbox_update AFTER UPDATE ON "Dm_x".outbox
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();
CREATE TRIGGER tally_outbox_delete AFTER DELETE ON "Dm_x".outbox
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Dm_x".tally_outbox();






ALTER TABLE "Dm_x".control ADD COLUMN paused_reason text;
UPDATE "Dm_x".control c
   SET paused_reason = (SELECT e.detail->>'reason' FROM "Dm_x".event e
                         WHERE e.kind = 'paused' ORDER BY e.id DESC LIMIT 1)
 WHERE c.paused;
