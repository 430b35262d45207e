-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
CREATE TABLE "Dm_x".account (
  subscriber_id bigint PRIMARY KEY,
  state text NOT NULL DEFAULT 'active'
    CHECK (state IN ('active', 'pending', 'suspended', 'erased')),
  cycle integer NOT NULL DEFAULT 0,
  rule text CHECK (rule IN ('inactive', 'never_active')),
  requested_at timestamptz,
  request_outbox_id bigint,
  delivered_at timestamptz,
  deadline timestamptz,
  reminders_sent integer NOT NULL DEFAULT 0,
  next_reminder_at timestamptz,
  suspended_at timestamptz,
  confirmed_at timestamptz,
  recheck_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE "Dm_x".account IS 'dormant: one row per subscriber that entered the lifecycle';
CREATE INDEX account_pending_deadline ON "Dm_x".account (deadline) WHERE state = 'pending';
CREATE INDEX account_pending_undelivered ON "Dm_x".account (requested_at)
  WHERE state = 'pending' AND delivered_at IS NULL;
CREATE INDEX account_suspended_at ON "Dm_x".account (suspended_at) WHERE state = 'suspended';
CREATE INDEX account_recheck ON "Dm_x".account (recheck_at)
  WHERE state = 'active' AND recheck_at IS NOT NULL;
CREATE INDEX account_remind ON "Dm_x".account (next_reminder_at)
  WHERE state = 'pending' AND next_reminder_at IS NOT NULL;
CREATE INDEX account_suspended_id ON "Dm_x".account (subscriber_id) WHERE state = 'suspended';
CREATE INDEX account_confirmed_unscheduled ON "Dm_x".account (subscriber_id)
  WHERE state = 'active' AND confirmed_at IS NOT NULL AND recheck_at IS NULL;

CREATE TABLE "Dm_x".token (
  hash bytea PRIMARY KEY,
  subscriber_id bigint NOT NULL REFERENCES "Dm_x".account ON DELETE CASCADE,
  cycle integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE "Dm_x".token IS 'dormant: SHA-256 of each live confirmation token';
CREATE INDEX token_subscriber ON "Dm_x".token (subscriber_id);

CREATE TABLE "Dm_x".event (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  subscriber_id bigint,
  kind text NOT NULL CHECK (kind IN ('requested', 'reminded', 'confirmed', 'declined',
    'resumed', 'suspended', 'reactivated', 'erased', 'exempted', 'unexempted',
    'delivery_failed', 'backlog_accepted', 'paused', 'unpaused')),
  cycle integer,
  actor text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}');
COMMENT ON TABLE "Dm_x".event IS 'dormant: append-only audit trail';
CREATE INDEX event_subscriber ON "Dm_x".event (subscriber_id, id);
CREATE INDEX event_requested_at ON "Dm_x".event (at) WHERE kind = 'requested';

CREATE TABLE "Dm_x".outbox (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  subscriber_id bigint NOT NULL,
  cycle integer,
  payload jsonb,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  delivered_at timestamptz,
  dead_at timestamptz,
  channels_done text[] NOT NULL DEFAULT '{}',
  claimed_by text,
  claimed_until timestamptz);
COMMENT ON TABLE "Dm_x".outbox IS 'dormant: one row per message to a subscriber';
CREATE INDEX outbox_due ON "Dm_x".outbox (next_attempt_at)
  WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_subscriber ON "Dm_x".outbox (subscriber_id, id);

CREATE TABLE "Dm_x".exemption (
  subscriber_id bigint PRIMARY KEY,
  until timestamptz,
  reason text NOT NULL,
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());

CREATE TABLE "Dm_x".control (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  paused boolean NOT NULL DEFAULT false,
  paused_by text,
  paused_at timestamptz,
  backlog_accepted integer,
  backlog_accepted_at timestamptz,
  rescan boolean NOT NULL DEFAULT true,
  inactive_mark timestamptz,
  inactive_mark_id bigint,
  created_mark timestamptz,
  created_mark_id bigint,
  activity_mark timestamptz,
  reactivation_cursor bigint,
  confirm_within interval NOT NULL DEFAULT '30 days',
  reminders interval[] NOT NULL DEFAULT '{}',
  leader text,
  last_pass_at timestamptz,
  last_pass_ms integer,
  last_pass_outcome text,
  last_pass jsonb,
  guards jsonb NOT NULL DEFAULT '{}');
COMMENT ON TABLE "Dm_x".control IS 'dormant: pause flag, watermarks, last pass (one row)';
INSERT INTO "Dm_x".control DEFAULT VALUES;


CREATE FUNCTION "Dm_x".outbox_delivered() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  dl timestamptz;
  rem interval[];
BEGIN
  IF NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL THEN
    IF NEW.type = 'confirmation.requested' THEN
      SELECT GREATEST(NEW.delivered_at + c.confirm_within,
                      (NEW.payload #>> '{data,deadline}')::timestamptz), c.reminders
        INTO dl, rem FROM "Dm_x".control c;
      UPDATE "Dm_x".account a
         SET delivered_at = NEW.delivered_at,
             deadline = dl,
             next_reminder_at = (SELECT min(dl - r) FROM unnest(rem) r),
             updated_at = now()
       WHERE a.subscriber_id = NEW.subscriber_id AND a.request_outbox_id = NEW.id
         AND a.state = 'pending' AND a.delivered_at IS NULL;
    END IF;
    IF NEW.payload IS NOT NULL THEN
      NEW.payload := NEW.payload #- '{data,confirm_url}';
    END IF;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER outbox_delivered BEFORE UPDATE OF delivered_at ON "Dm_x".outbox
  FOR EACH ROW EXECUTE FUNCTION "Dm_x".outbox_delivered();
