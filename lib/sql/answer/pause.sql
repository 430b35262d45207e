-- "Pause billing now": pending -> suspended, event declined, message
-- subscription.suspended. Each answer applies once (see keep.sql). Billing
-- stops at once, only where it is still active: a value the application
-- set otherwise is left alone. A request or reminder not delivered yet must
-- not go out after the answer.
WITH target AS ({TARGET}),
 moved AS (UPDATE {S}.account a SET state = 'suspended', suspended_at = now(),
                  next_reminder_at = NULL, updated_at = now() FROM target
            WHERE a.subscriber_id = target.subscriber_id AND a.cycle = target.cycle
              AND a.state = 'pending' RETURNING a.subscriber_id, a.cycle),
 superseded AS (UPDATE {S}.outbox o SET dead_at = now(),
                       last_error = 'superseded: the subscriber answered' FROM moved m
                 WHERE o.subscriber_id = m.subscriber_id AND o.delivered_at IS NULL
                   AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%' RETURNING 1),
 billed AS (UPDATE {SRC} s SET {BILLING} = {SUSPENDED} FROM moved m
             WHERE s.{ID} = m.subscriber_id AND s.{BILLING} = {ACTIVE} RETURNING 1),
 killed AS (DELETE FROM {S}.token t USING moved m
             WHERE t.subscriber_id = m.subscriber_id RETURNING 1),
 ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
        SELECT m.subscriber_id, 'declined', m.cycle, $(actor)::text,
               CASE WHEN $(reason)::text IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('reason', $(reason)::text) END
          FROM moved m RETURNING 1),
 msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.suspended', m.subscriber_id, m.cycle, jsonb_build_object(
                'type', 'subscription.suspended',
                'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'data', jsonb_build_object('subscriber_id', m.subscriber_id::text,
                  'email', s.{EMAIL}, 'locale', coalesce(nullif({LOCALE}, ''), 'en'),
                  'suspended_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'reason', 'declined'))
           FROM moved m LEFT JOIN {SRC} s ON s.{ID} = m.subscriber_id
         RETURNING id, subscriber_id, payload)
 SELECT msg.subscriber_id::text, msg.id, pg_notify('dormant_outbox', msg.id::text),
        msg.payload->'data'->>'locale' FROM msg
