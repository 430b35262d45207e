-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = lag
-- $2 = active
-- $3 = limit
-- $4 = first
WITH cur AS (SELECT reactivation_cursor AS c FROM "Dm_x".control),
page AS (SELECT a.subscriber_id AS id FROM "Dm_x".account a
          WHERE a.state = 'suspended'
            AND (a.subscriber_id > (SELECT c FROM cur) OR (SELECT c FROM cur) IS NULL)
          ORDER BY a.subscriber_id LIMIT $3::integer),
recent AS (SELECT a.subscriber_id AS id FROM "Dm_x".account a
            WHERE $4::boolean AND a.state = 'suspended'
              AND a.suspended_at > now() - $1::interval),
cand AS (SELECT id FROM page UNION SELECT id FROM recent),



look AS (SELECT a.subscriber_id AS id, a.cycle, a.state, a.requested_at, a.suspended_at,
                a.used_while_suspended_at, s."billing_status" = $2 AS billing_active,
                (s."last_activity_at") AS la, s."email"::text AS email, s."locale"::text AS locale
           FROM cand p
           CROSS JOIN LATERAL (SELECT * FROM "Dm_x".account a
                                WHERE a.subscriber_id = p.id OFFSET 0) a
           CROSS JOIN LATERAL (SELECT * FROM "public"."subscribers" s WHERE s."id" = p.id OFFSET 0) s),
due AS (SELECT id, email, locale, suspended_at FROM look
         WHERE state = 'suspended' AND billing_active)
,
acc AS (UPDATE "Dm_x".account a SET state = 'active', suspended_at = NULL,
               confirmed_at = now(), recheck_at = NULL, updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'
        RETURNING a.subscriber_id, a.cycle),
ok AS (SELECT due.*, acc.cycle FROM due JOIN acc ON acc.subscriber_id = due.id),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reactivated', ok.cycle, 'daemon',
              jsonb_build_object('cause', 'billing set back to active',
                                 'suspended_at', ok.suspended_at)
         FROM ok),
msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscription.reactivated', ok.id, ok.cycle,
               jsonb_build_object('type', 'subscription.reactivated',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale))
          FROM ok RETURNING 1),





late AS (SELECT l.id, l.cycle, l.requested_at, l.suspended_at, l.la, l.email, l.locale
           FROM look l
          WHERE l.state = 'suspended' AND l.used_while_suspended_at IS NULL
            AND l.la > l.requested_at AND l.la <= l.suspended_at
            AND l.billing_active IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM "Dm_x".event e WHERE e.subscriber_id = l.id
                               AND e.cycle = l.cycle AND e.kind = 'declined')),
lacc AS (UPDATE "Dm_x".account a SET used_while_suspended_at = now(), updated_at = now()
           FROM late WHERE a.subscriber_id = late.id AND a.state = 'suspended'
            AND a.used_while_suspended_at IS NULL
         RETURNING a.subscriber_id),
lok AS (SELECT late.* FROM late JOIN lacc ON lacc.subscriber_id = late.id),
lev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
        SELECT lok.id, 'used_while_suspended', lok.cycle, 'daemon',
               jsonb_build_object('last_activity_at', lok.la,
                                  'requested_at', lok.requested_at,
                                  'suspended_at', lok.suspended_at)
          FROM lok),
lmsg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.used_while_suspended', lok.id, lok.cycle,
                jsonb_build_object('type', 'subscription.used_while_suspended',
                  'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', jsonb_build_object('subscriber_id', lok.id::text,
                    'email', lok.email, 'locale', lok.locale,
                    'last_activity_at', to_char((lok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'requested_at', to_char((lok.requested_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'suspended_at', to_char((lok.suspended_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
           FROM lok RETURNING 1),
mark AS (UPDATE "Dm_x".control SET reactivation_cursor =
           CASE WHEN (SELECT count(*) FROM page) < $3::integer THEN NULL
                ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM page) < $3::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '')
                                 FROM (SELECT 1 FROM msg UNION ALL SELECT 1 FROM lmsg) m
                                LIMIT 1) x) AS notified
