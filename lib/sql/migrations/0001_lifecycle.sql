-- Version 1: the lifecycle tables. Never edit a released migration: add
-- the next file (0002_....sql); the schema version is the number of files.
-- {S} is the dormant schema, {ID_TYPE} the type of the source id column (so
-- that joins use the source's primary key index).
CREATE TABLE {S}.account (
  subscriber_id {ID_TYPE} PRIMARY KEY,
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
COMMENT ON TABLE {S}.account IS 'dormant: one row per subscriber that entered the lifecycle';
CREATE INDEX account_pending_deadline ON {S}.account (deadline) WHERE state = 'pending';
CREATE INDEX account_pending_undelivered ON {S}.account (requested_at)
  WHERE state = 'pending' AND delivered_at IS NULL;
CREATE INDEX account_suspended_at ON {S}.account (suspended_at) WHERE state = 'suspended';
CREATE INDEX account_recheck ON {S}.account (recheck_at)
  WHERE state = 'active' AND recheck_at IS NOT NULL;
CREATE INDEX account_remind ON {S}.account (next_reminder_at)
  WHERE state = 'pending' AND next_reminder_at IS NOT NULL;
CREATE INDEX account_suspended_id ON {S}.account (subscriber_id) WHERE state = 'suspended';
CREATE INDEX account_confirmed_unscheduled ON {S}.account (subscriber_id)
  WHERE state = 'active' AND confirmed_at IS NOT NULL AND recheck_at IS NULL;

CREATE TABLE {S}.token (
  hash bytea PRIMARY KEY,
  subscriber_id {ID_TYPE} NOT NULL REFERENCES {S}.account ON DELETE CASCADE,
  cycle integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE {S}.token IS 'dormant: SHA-256 of each live confirmation token';
CREATE INDEX token_subscriber ON {S}.token (subscriber_id);

CREATE TABLE {S}.event (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  subscriber_id {ID_TYPE},
  kind text NOT NULL CHECK (kind IN ('requested', 'reminded', 'confirmed', 'declined',
    'resumed', 'suspended', 'reactivated', 'erased', 'exempted', 'unexempted',
    'delivery_failed', 'backlog_accepted', 'paused', 'unpaused')),
  cycle integer,
  actor text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}');
COMMENT ON TABLE {S}.event IS 'dormant: append-only audit trail';
CREATE INDEX event_subscriber ON {S}.event (subscriber_id, id);
CREATE INDEX event_requested_at ON {S}.event (at) WHERE kind = 'requested';

CREATE TABLE {S}.outbox (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  subscriber_id {ID_TYPE} NOT NULL,
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
COMMENT ON TABLE {S}.outbox IS 'dormant: one row per message to a subscriber';
CREATE INDEX outbox_due ON {S}.outbox (next_attempt_at)
  WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_subscriber ON {S}.outbox (subscriber_id, id);

CREATE TABLE {S}.exemption (
  subscriber_id {ID_TYPE} PRIMARY KEY,
  until timestamptz,
  reason text NOT NULL,
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());

CREATE TABLE {S}.control (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  paused boolean NOT NULL DEFAULT false,
  paused_by text,
  paused_at timestamptz,
  backlog_accepted integer,
  backlog_accepted_at timestamptz,
  rescan boolean NOT NULL DEFAULT true,
  inactive_mark timestamptz,
  inactive_mark_id {ID_TYPE},
  created_mark timestamptz,
  created_mark_id {ID_TYPE},
  activity_mark timestamptz,
  reactivation_cursor {ID_TYPE},
  confirm_within interval NOT NULL DEFAULT '30 days',
  reminders interval[] NOT NULL DEFAULT '{}',
  leader text,
  last_pass_at timestamptz,
  last_pass_ms integer,
  last_pass_outcome text,
  last_pass jsonb,
  guards jsonb NOT NULL DEFAULT '{}');
COMMENT ON TABLE {S}.control IS 'dormant: pause flag, watermarks, last pass (one row)';
INSERT INTO {S}.control DEFAULT VALUES;
-- Delivery, by a built-in channel or by the application's own mailer
-- acknowledging a row, starts the grace period and retires the link.
CREATE FUNCTION {S}.outbox_delivered() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  dl timestamptz;
  rem interval[];
BEGIN
  IF NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL THEN
    IF NEW.type = 'confirmation.requested' THEN
      SELECT GREATEST(NEW.delivered_at + c.confirm_within,
                      (NEW.payload #>> '{data,deadline}')::timestamptz), c.reminders
        INTO dl, rem FROM {S}.control c;
      UPDATE {S}.account a
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
CREATE TRIGGER outbox_delivered BEFORE UPDATE OF delivered_at ON {S}.outbox
  FOR EACH ROW EXECUTE FUNCTION {S}.outbox_delivered();
