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
due AS (SELECT p.id, s."email"::text AS email, s."locale"::text AS locale, a.suspended_at
          FROM cand p JOIN "public"."subscribers" s ON s."id" = p.id
          JOIN "Dm_x".account a ON a.subscriber_id = p.id
         WHERE s."billing_status" = $2)
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





late AS (SELECT a.subscriber_id AS id, a.cycle, a.requested_at, a.suspended_at,
                (s."last_activity_at") AS la, s."email"::text AS email, s."locale"::text AS locale
           FROM cand p JOIN "Dm_x".account a ON a.subscriber_id = p.id
           JOIN "public"."subscribers" s ON s."id" = p.id
          WHERE a.state = 'suspended' AND a.used_while_suspended_at IS NULL
            AND (s."last_activity_at") > a.requested_at AND (s."last_activity_at") <= a.suspended_at
            AND s."billing_status" IS DISTINCT FROM $2
            AND NOT EXISTS (SELECT 1 FROM "Dm_x".event e WHERE e.subscriber_id = a.subscriber_id
                               AND e.cycle = a.cycle AND e.kind = 'declined')),
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
