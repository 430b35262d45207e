-- "Keep my subscription": pending -> active, event confirmed, message
-- subscription.confirmed. Under concurrency the second UPDATE re-checks the
-- row after the first commits, finds it no longer pending, and moves
-- nothing: each answer applies once. recheck_at stays NULL: the pass
-- schedules the next look from confirmed_at with the rule's own period.
-- A request or reminder not delivered yet must not go out after the answer.
WITH target AS ({TARGET}),
 moved AS (UPDATE {S}.account a SET state = 'active', confirmed_at = now(), recheck_at = NULL,
                  next_reminder_at = NULL, updated_at = now() FROM target
            WHERE a.subscriber_id = target.subscriber_id AND a.cycle = target.cycle
              AND a.state = 'pending' RETURNING a.subscriber_id, a.cycle),
 superseded AS (UPDATE {S}.outbox o SET dead_at = now(),
                       last_error = 'superseded: the subscriber answered' FROM moved m
                 WHERE o.subscriber_id = m.subscriber_id AND o.delivered_at IS NULL
                   AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%' RETURNING 1),
 killed AS (DELETE FROM {S}.token t USING moved m
             WHERE t.subscriber_id = m.subscriber_id RETURNING 1),
 ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
        SELECT m.subscriber_id, 'confirmed', m.cycle, $(actor)::text,
               CASE WHEN $(reason)::text IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('reason', $(reason)::text) END
          FROM moved m RETURNING 1),
 msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.confirmed', m.subscriber_id, m.cycle, jsonb_build_object(
                'type', 'subscription.confirmed',
                'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'data', jsonb_build_object('subscriber_id', m.subscriber_id::text,
                  'email', s.{EMAIL}, 'locale', coalesce(nullif({LOCALE}, ''), 'en')))
           FROM moved m LEFT JOIN {SRC} s ON s.{ID} = m.subscriber_id
         RETURNING id, subscriber_id, payload)
 SELECT msg.subscriber_id::text, msg.id, pg_notify('dormant_outbox', msg.id::text),
        msg.payload->'data'->>'locale' FROM msg
