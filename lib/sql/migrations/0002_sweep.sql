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
-- The trigger runs as the schema's owner (SECURITY DEFINER), so that the
-- application's mailer needs the right to acknowledge a message and nothing
-- on dormant's other tables.
CREATE OR REPLACE FUNCTION {S}.outbox_delivered() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  dl timestamptz;
  cw interval;
  rem interval[];
BEGIN
  IF NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL THEN
    INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
    VALUES (NEW.subscriber_id, 'delivered', NEW.cycle, 'daemon',
            jsonb_build_object('outbox_id', NEW.id, 'type', NEW.type,
              'channel', CASE WHEN cardinality(NEW.channels_done) = 0 THEN 'outbox'
                              ELSE array_to_string(NEW.channels_done, ',') END,
              'at', NEW.delivered_at));
    IF NEW.type = 'confirmation.requested' THEN
      SELECT c.confirm_within, ARRAY(SELECT r FROM unnest(c.reminders) r ORDER BY r DESC)
        INTO cw, rem FROM {S}.control c;
      dl := GREATEST(NEW.delivered_at + cw, (NEW.payload #>> '{data,deadline}')::timestamptz);
      UPDATE {S}.account a
         SET delivered_at = NEW.delivered_at, deadline = dl,
             confirm_within = cw, reminders = rem, reminders_sent = 0,
             reminder_outbox_id = NULL, next_reminder_at = dl - rem[1],
             updated_at = now()
       WHERE a.subscriber_id = NEW.subscriber_id AND a.request_outbox_id = NEW.id
         AND a.state = 'pending' AND a.delivered_at IS NULL;
    ELSIF NEW.type = 'confirmation.reminder' THEN
      -- Delivered later than deadline - r: the deadline moves to delivery + r.
      UPDATE {S}.account a
         SET deadline = GREATEST(a.deadline, NEW.delivered_at + a.reminders[a.reminders_sent]),
             next_reminder_at = GREATEST(a.deadline,
                                         NEW.delivered_at + a.reminders[a.reminders_sent])
                                - a.reminders[a.reminders_sent + 1],
             reminder_outbox_id = NULL, updated_at = now()
       WHERE a.subscriber_id = NEW.subscriber_id AND a.reminder_outbox_id = NEW.id
         AND a.state = 'pending';
    END IF;
    IF NEW.payload IS NOT NULL THEN
      NEW.payload := NEW.payload #- '{data,confirm_url}';
    END IF;
  END IF;
  RETURN NEW;
END
$fn$;
