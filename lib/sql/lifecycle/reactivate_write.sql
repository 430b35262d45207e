,
acc AS (UPDATE {S}.account a SET state = 'active', suspended_at = NULL,
               confirmed_at = now(), recheck_at = NULL, updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'
        RETURNING a.subscriber_id, a.cycle),
ok AS (SELECT due.*, acc.cycle FROM due JOIN acc ON acc.subscriber_id = due.id),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reactivated', ok.cycle, 'daemon',
              jsonb_build_object('cause', 'billing set back to active',
                                 'suspended_at', ok.suspended_at)
         FROM ok),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscription.reactivated', ok.id, ok.cycle,
               jsonb_build_object('type', 'subscription.reactivated',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale))
          FROM ok RETURNING 1),
mark AS (UPDATE {S}.control SET reactivation_cursor =
           CASE WHEN (SELECT count(*) FROM page) < $(limit)::integer THEN NULL
                ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM page) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified
