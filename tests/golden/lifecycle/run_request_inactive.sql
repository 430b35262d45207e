-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = min_age
-- $4 = active
-- $5 = url
-- $6 = mark_ts
-- $7 = mark_id
-- $8 = limit
WITH mk AS (SELECT CASE WHEN rescan THEN NULL ELSE inactive_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE inactive_mark_id END AS id FROM "Dm_x".control),
raw AS (SELECT s."id" AS id, s."email"::text AS email, (s."last_activity_at") AS la,
               (s."created_at") AS created, s."locale"::text AS locale,
               coalesce(s."billing_status" = $4, false) AS billing_ok,
               coalesce(((s.plan <> 'staff')), false) AS elig,
               'inactive'::text AS rule, (s."last_activity_at") AS ord
          FROM "public"."subscribers" s
         WHERE s."last_activity_at" >= (coalesce($6::timestamptz, '-infinity'))
           AND (s."last_activity_at" > ($6::timestamptz) OR s."id" > $7
                OR $6::timestamptz IS NULL)
           AND s."last_activity_at" <= (now() - $1::interval)
         ORDER BY s."last_activity_at", s."id" LIMIT $8::integer),
cand AS (SELECT r.*, a.state AS astate, a.confirmed_at,
                e.subscriber_id IS NOT NULL AND (e.until IS NULL OR e.until > now()) AS exempt,
                CASE WHEN e.until > now() THEN e.until END AS exempt_until,
                CASE r.rule WHEN 'inactive' THEN $1::interval ELSE $2::interval END AS after
           FROM raw r
           LEFT JOIN LATERAL (SELECT * FROM "Dm_x".account a
                               WHERE a.subscriber_id = r.id OFFSET 0) a ON true
           LEFT JOIN LATERAL (SELECT * FROM "Dm_x".exemption e
                               WHERE e.subscriber_id = r.id OFFSET 0) e ON true),
dec AS (SELECT c.*,
               CASE WHEN NOT c.billing_ok OR NOT c.elig OR c.after IS NULL THEN 'skip'
                    WHEN c.astate IS NOT NULL AND c.astate <> 'active' THEN 'skip'
                    WHEN coalesce(c.la, c.created) > now() - c.after THEN 'skip'
                    WHEN c.exempt AND c.exempt_until IS NULL THEN 'skip'
                    WHEN c.exempt OR c.created > now() - $3::interval
                         OR c.confirmed_at > now() - c.after THEN 'later'
                    ELSE 'request' END AS decision,
               greatest(c.exempt_until, c.created + $3::interval, c.confirmed_at + c.after)
                 AS later_at
          FROM cand c)
,
brake AS (SELECT paused FROM "Dm_x".control),








pick AS (SELECT d.*, nextval('"Dm_x".outbox_id_seq') AS outbox_id,
                translate(rtrim(encode(uuid_send(gen_random_uuid())
                  || uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_') AS tok
           FROM (SELECT d.* FROM dec d WHERE d.decision = 'request'
                    AND NOT (SELECT paused FROM brake)
                  ORDER BY d.ord, d.id) d),
acc AS (INSERT INTO "Dm_x".account AS a (subscriber_id, state, cycle, rule, requested_at,
                                      request_outbox_id, updated_at)
        SELECT p.id, 'pending', 1, p.rule, now(), p.outbox_id, now() FROM pick p ORDER BY p.id
        ON CONFLICT (subscriber_id) DO UPDATE
           SET state = 'pending', cycle = a.cycle + 1, rule = EXCLUDED.rule,
               requested_at = now(), request_outbox_id = EXCLUDED.request_outbox_id,
               delivered_at = NULL, deadline = NULL, reminders_sent = 0,
               next_reminder_at = NULL, suspended_at = NULL, confirmed_at = NULL,
               recheck_at = NULL, confirm_within = NULL, reminders = NULL,
               reminder_outbox_id = NULL, used_while_suspended_at = NULL,
               updated_at = now()
         WHERE a.state = 'active'
        RETURNING a.subscriber_id, a.cycle),




accm AS (SELECT jsonb_object_agg(acc.subscriber_id::text, acc.cycle) AS m FROM acc),
ok AS (SELECT p.*, ((SELECT m FROM accm) ->> p.id::text)::integer AS cycle
         FROM pick p WHERE (SELECT m FROM accm) ? p.id::text ORDER BY p.id),
tok AS (INSERT INTO "Dm_x".token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'requested', ok.cycle, 'daemon',
              jsonb_build_object('rule', ok.rule, 'after', ok.after::text,
                                 'last_activity_at', ok.la, 'created_at', ok.created,
                                 'min_account_age', $3::interval::text)
         FROM ok),
msg AS (INSERT INTO "Dm_x".outbox (id, type, subscriber_id, cycle, payload)
        SELECT ok.outbox_id, 'confirmation.requested', ok.id, ok.cycle,
               jsonb_build_object('type', 'confirmation.requested',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'confirm_url', $5::text || '/c/' || ok.tok,
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule))
          FROM ok RETURNING 1),
later AS (INSERT INTO "Dm_x".account AS a (subscriber_id, recheck_at)
          SELECT d.id, CASE WHEN d.decision = 'later' THEN d.later_at END FROM dec d
           WHERE (d.decision = 'later' OR (d.decision = 'skip' AND d.astate = 'active' AND false))
             AND NOT (SELECT paused FROM brake)
          ON CONFLICT (subscriber_id) DO UPDATE
             SET recheck_at = EXCLUDED.recheck_at,
                 confirmed_at = CASE WHEN EXCLUDED.recheck_at IS NULL THEN NULL
                                     ELSE a.confirmed_at END,
                 updated_at = now()
           WHERE a.state = 'active'),last_raw AS (SELECT ord, id FROM raw ORDER BY ord DESC, id DESC LIMIT 1),
newmark AS (SELECT CASE WHEN (SELECT count(*) FROM raw) < $8::integer THEN now() - $1::interval
                        ELSE (SELECT ord FROM last_raw) END AS ts,
                   CASE WHEN (SELECT count(*) FROM raw) < $8::integer THEN NULL
                        ELSE (SELECT id FROM last_raw) END AS id),
mark AS (UPDATE "Dm_x".control SET inactive_mark = (SELECT ts FROM newmark),
                                inactive_mark_id = (SELECT id FROM newmark)
          WHERE NOT (SELECT paused FROM brake))
 SELECT (SELECT count(*) FROM acc) AS moved,
        (SELECT count(*) FROM raw) < $8::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified, (SELECT ts::text FROM newmark) AS mark_ts, (SELECT id::text FROM newmark) AS mark_id,
        (SELECT paused FROM brake) AS paused
