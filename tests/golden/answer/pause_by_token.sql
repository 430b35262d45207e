-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = key
-- $2 = actor
-- $3 = reason
WITH target AS (SELECT a.subscriber_id, a.cycle FROM "Dm_x".account a
 JOIN "Dm_x".token t ON t.subscriber_id = a.subscriber_id AND t.cycle = a.cycle
 WHERE t.hash = decode($1, 'hex') AND a.state = 'pending'),
 moved AS (UPDATE "Dm_x".account a SET state = 'suspended', suspended_at = now(),
                  next_reminder_at = NULL, updated_at = now() FROM target
            WHERE a.subscriber_id = target.subscriber_id AND a.cycle = target.cycle
              AND a.state = 'pending' RETURNING a.subscriber_id, a.cycle),
 superseded AS (UPDATE "Dm_x".outbox o SET dead_at = now(),
                       last_error = 'superseded: the subscriber answered' FROM moved m
                 WHERE o.subscriber_id = m.subscriber_id AND o.delivered_at IS NULL
                   AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%' RETURNING 1),
 billed AS (UPDATE "public"."subscribers" s SET "billing_status" = 'suspended' FROM moved m
             WHERE s."id" = m.subscriber_id AND s."billing_status" = 'active' RETURNING 1),
 killed AS (DELETE FROM "Dm_x".token t USING moved m
             WHERE t.subscriber_id = m.subscriber_id RETURNING 1),
 ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
        SELECT m.subscriber_id, 'declined', m.cycle, $2::text,
               CASE WHEN $3::text IS NULL THEN '{}'::jsonb
                    ELSE jsonb_build_object('reason', $3::text) END
          FROM moved m RETURNING 1),
 msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.suspended', m.subscriber_id, m.cycle, jsonb_build_object(
                'type', 'subscription.suspended',
                'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'data', jsonb_build_object('subscriber_id', m.subscriber_id::text,
                  'email', s."email", 'locale', coalesce(nullif(s."locale"::text, ''), 'en'),
                  'suspended_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'reason', 'declined'))
           FROM moved m LEFT JOIN "public"."subscribers" s ON s."id" = m.subscriber_id
         RETURNING id, subscriber_id, payload)
 SELECT msg.subscriber_id::text, msg.id, pg_notify('dormant_outbox', msg.id::text),
        msg.payload->'data'->>'locale' FROM msg
