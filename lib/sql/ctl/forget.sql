-- dormantctl forget (GDPR art. 17): erases now what dormant holds about
-- $(id), as the erasure step does, whatever the account's state, and audits
-- it. The account row stays as a tombstone, state erased, so that no pass
-- asks the subscriber again; its times and rule go. Tokens and the
-- exemption go; message payloads go (a message not yet delivered is dead,
-- superseded); every event's detail goes; then the event forgotten with
-- the operator and the reason (its db_user, the session_user, is set by the
-- audit trail's trigger, 0003_audit.sql), and a
-- subscriber.erased message for the application, as at erasure. The sweep
-- never takes a forgotten subscriber back (sweep_write.sql): billing that
-- stays active is the application's business, not a comeback to ask.
WITH acc AS (INSERT INTO {S}.account AS a (subscriber_id, state)
             VALUES ($(id)::{ID_TYPE}, 'erased')
             ON CONFLICT (subscriber_id) DO UPDATE
                SET state = 'erased', rule = NULL, requested_at = NULL,
                    request_outbox_id = NULL, delivered_at = NULL, deadline = NULL,
                    reminders_sent = 0, next_reminder_at = NULL, suspended_at = NULL,
                    confirmed_at = NULL, recheck_at = NULL, updated_at = now()
             RETURNING a.subscriber_id, a.cycle),
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
exm AS (DELETE FROM {S}.exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),
obx AS (UPDATE {S}.outbox o SET payload = NULL,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN 'superseded: the subscriber was forgotten'
                                 ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))
        RETURNING 1),
evx AS (UPDATE {S}.event e SET detail = '{}' FROM acc
         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}' RETURNING 1),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, 'forgotten', acc.cycle, $(actor),
              jsonb_build_object('reason', $(reason)::text)
         FROM acc),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,
               jsonb_build_object('type', 'subscriber.erased',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', acc.subscriber_id::text))
          FROM acc RETURNING 1)
 SELECT (SELECT count(*) FROM obx) AS messages, (SELECT count(*) FROM evx) AS events,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified
