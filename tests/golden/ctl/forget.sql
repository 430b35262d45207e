-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = actor
-- $3 = reason
WITH acc AS (INSERT INTO "Dm_x".account AS a (subscriber_id, state)
             VALUES ($1::bigint, 'erased')
             ON CONFLICT (subscriber_id) DO UPDATE
                SET state = 'erased', rule = NULL, requested_at = NULL,
                    request_outbox_id = NULL, delivered_at = NULL, deadline = NULL,
                    reminders_sent = 0, next_reminder_at = NULL, suspended_at = NULL,
                    confirmed_at = NULL, recheck_at = NULL, updated_at = now()
             RETURNING a.subscriber_id, a.cycle,
                       'superseded: the subscriber was forgotten'::text AS superseded),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
exm AS (DELETE FROM "Dm_x".exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),
obx AS (UPDATE "Dm_x".outbox o SET payload = NULL,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN acc.superseded ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))
        RETURNING 1),
evx AS (UPDATE "Dm_x".event e SET detail = '{}' FROM acc
         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}' RETURNING 1),
msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,
               jsonb_build_object('type', 'subscriber.erased',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', acc.subscriber_id::text))
          FROM acc RETURNING 1),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, 'forgotten', acc.cycle, $2,
              jsonb_build_object('reason', $3::text)
         FROM acc)
 SELECT (SELECT count(*) FROM obx) AS messages, (SELECT count(*) FROM evx) AS events,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified
