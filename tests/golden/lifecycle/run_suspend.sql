-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = confirm
-- $2 = active
-- $3 = suspended
-- $4 = limit
WITH cand AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at
                FROM "Dm_x".account a
               WHERE a.state = 'pending' AND a.deadline <= now()
                 AND a.delivered_at IS NOT NULL AND a.next_reminder_at IS NULL
                 AND a.reminder_outbox_id IS NULL AND a.deadline <= (SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now()))
               ORDER BY a.deadline, a.subscriber_id LIMIT $4::integer),
lk AS MATERIALIZED (SELECT s."id" AS id, (s."last_activity_at") AS la FROM "public"."subscribers" s
                      JOIN cand c ON s."id" = c.id FOR UPDATE OF s),
due AS (SELECT c.* FROM cand c LEFT JOIN lk ON lk.id = c.id
         WHERE NOT coalesce(lk.la > c.requested_at, false))
,
acc AS (UPDATE "Dm_x".account a SET state = 'suspended', suspended_at = now(),
               next_reminder_at = NULL, updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
           AND a.deadline <= now() AND a.delivered_at IS NOT NULL
           AND NOT (SELECT paused FROM "Dm_x".control)
        RETURNING a.subscriber_id, a.cycle, a.rule, a.deadline, a.delivered_at,
                  a.requested_at, a.confirm_within),
bill AS (UPDATE "public"."subscribers" s SET "billing_status" = $3 FROM acc
          WHERE s."id" = acc.subscriber_id AND s."billing_status" = $2
         RETURNING s."id" AS id),
ok AS (SELECT acc.*, s."email"::text AS email, s."locale"::text AS locale,
              (s."last_activity_at") AS la,
              EXISTS (SELECT 1 FROM bill WHERE bill.id = acc.subscriber_id) AS billed
         FROM acc LEFT JOIN "public"."subscribers" s ON s."id" = acc.subscriber_id),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),


obx AS (UPDATE "Dm_x".outbox o SET dead_at = now(),
               last_error = 'superseded: the subscriber was suspended'
          FROM acc WHERE o.subscriber_id = acc.subscriber_id AND o.delivered_at IS NULL
           AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%'),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.subscriber_id, 'suspended', ok.cycle, 'daemon',
              jsonb_build_object('rule', ok.rule, 'deadline', ok.deadline,
                                 'delivered_at', ok.delivered_at,
                                 'requested_at', ok.requested_at,
                                 'confirm_within',
                                   coalesce(ok.confirm_within, $1::interval)::text,
                                 'billing_written', ok.billed)
         FROM ok),
msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscription.suspended', ok.subscriber_id, ok.cycle,
               jsonb_build_object('type', 'subscription.suspended',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.subscriber_id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'deadline', to_char((ok.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule,
                   'reason', 'no_answer'))
          FROM ok RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM cand) < $4::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM "Dm_x".control) AS paused
