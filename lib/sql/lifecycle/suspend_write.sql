-- Moves nobody while the cluster-wide pause is set, and says so.
,
acc AS (UPDATE {S}.account a SET state = 'suspended', suspended_at = now(),
               next_reminder_at = NULL, updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
           AND a.deadline <= now() AND a.delivered_at IS NOT NULL
           AND NOT (SELECT paused FROM {S}.control)
        RETURNING a.subscriber_id, a.cycle, a.rule, a.deadline, a.delivered_at,
                  a.requested_at, a.confirm_within),
bill AS (UPDATE {SRC} s SET {BILLING} = $(suspended) FROM acc
          WHERE s.{ID} = acc.subscriber_id AND s.{BILLING} = $(active)
         RETURNING s.{ID} AS id),
ok AS (SELECT acc.*, s.{EMAIL}::text AS email, {LOCALE} AS locale,
              {LA_TS} AS la,
              EXISTS (SELECT 1 FROM bill WHERE bill.id = acc.subscriber_id) AS billed
         FROM acc LEFT JOIN {SRC} s ON s.{ID} = acc.subscriber_id),
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
-- Whatever of the cycle is still undelivered is retired: nothing of it may
-- reach the subscriber after the suspension.
obx AS (UPDATE {S}.outbox o SET dead_at = now(),
               last_error = 'superseded: the subscriber was suspended'
          FROM acc WHERE o.subscriber_id = acc.subscriber_id AND o.delivered_at IS NULL
           AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%'),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.subscriber_id, 'suspended', ok.cycle, 'daemon',
              jsonb_build_object('rule', ok.rule, 'deadline', ok.deadline,
                                 'delivered_at', ok.delivered_at,
                                 'requested_at', ok.requested_at,
                                 'confirm_within',
                                   coalesce(ok.confirm_within, $(confirm)::interval)::text,
                                 'billing_written', ok.billed)
         FROM ok),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscription.suspended', ok.subscriber_id, ok.cycle,
               jsonb_build_object('type', 'subscription.suspended',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.subscriber_id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'deadline', to_char((ok.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule,
                   'reason', 'no_answer'))
          FROM ok RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM cand) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM {S}.control) AS paused
