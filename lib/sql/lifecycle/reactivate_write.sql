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
-- The subscribers looked at who were suspended for not answering whose activity, dated
-- after their request and before their suspension, was written after it:
-- the feed's lateness (promise 1). Recorded once per cycle and sent to the
-- application, which alone may charge again; billing stays as it is. (Who
-- chose "Pause billing now" answered: not reported.)
late AS (SELECT l.id, l.cycle, l.requested_at, l.suspended_at, l.la, l.email, l.locale
           FROM look l
          WHERE l.state = 'suspended' AND l.used_while_suspended_at IS NULL
            AND l.la > l.requested_at AND l.la <= l.suspended_at
            AND l.billing_active IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM {S}.event e WHERE e.subscriber_id = l.id
                               AND e.cycle = l.cycle AND e.kind = 'declined')),
lacc AS (UPDATE {S}.account a SET used_while_suspended_at = now(), updated_at = now()
           FROM late WHERE a.subscriber_id = late.id AND a.state = 'suspended'
            AND a.used_while_suspended_at IS NULL
         RETURNING a.subscriber_id),
lok AS (SELECT late.* FROM late JOIN lacc ON lacc.subscriber_id = late.id),
lev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
        SELECT lok.id, 'used_while_suspended', lok.cycle, 'daemon',
               jsonb_build_object('last_activity_at', lok.la,
                                  'requested_at', lok.requested_at,
                                  'suspended_at', lok.suspended_at)
          FROM lok),
lmsg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.used_while_suspended', lok.id, lok.cycle,
                jsonb_build_object('type', 'subscription.used_while_suspended',
                  'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', jsonb_build_object('subscriber_id', lok.id::text,
                    'email', lok.email, 'locale', lok.locale,
                    'last_activity_at', to_char((lok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'requested_at', to_char((lok.requested_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'suspended_at', to_char((lok.suspended_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
           FROM lok RETURNING 1),
mark AS (UPDATE {S}.control SET reactivation_cursor =
           CASE WHEN (SELECT count(*) FROM page) < $(limit)::integer THEN NULL
                ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM page) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '')
                                 FROM (SELECT 1 FROM msg UNION ALL SELECT 1 FROM lmsg) m
                                LIMIT 1) x) AS notified
