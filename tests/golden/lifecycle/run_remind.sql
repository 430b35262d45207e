-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = reminders
-- $2 = url
-- $3 = limit
WITH due AS (SELECT a.subscriber_id AS id, a.cycle, a.deadline, a.rule,
                    s."email"::text AS email, s."locale"::text AS locale,
                    (s."last_activity_at") AS la, a.next_reminder_at,
                    row_number() OVER (ORDER BY a.next_reminder_at, a.subscriber_id) AS n
               FROM "Dm_x".account a JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'pending' AND a.next_reminder_at <= now()
                AND a.deadline > now() AND NOT coalesce((s."last_activity_at") > a.requested_at, false)
              ORDER BY a.next_reminder_at, a.subscriber_id LIMIT $3::integer)
,
acc AS (UPDATE "Dm_x".account a
           SET reminders_sent = (SELECT count(*) FROM unnest($1::interval[]) r
                                  WHERE a.deadline - r <= now()),
               next_reminder_at = (SELECT min(a.deadline - r) FROM unnest($1::interval[]) r
                                    WHERE a.deadline - r > now()),
               updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
           AND a.next_reminder_at <= now() AND a.deadline > now()
        RETURNING a.subscriber_id, a.cycle, a.deadline, a.reminders_sent),

ok AS (SELECT due.id, due.n, due.email, due.locale, due.la, due.rule, acc.cycle,
              acc.deadline, acc.reminders_sent,
              translate(rtrim(encode(decode(replace(gen_random_uuid()::text
                || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '='), '+/', '-_') AS tok,
              (SELECT min(r) FROM unnest($1::interval[]) r WHERE acc.deadline - r <= now())
                AS offset_
         FROM due JOIN acc ON acc.subscriber_id = due.id),
tok AS (INSERT INTO "Dm_x".token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reminded', ok.cycle, 'daemon',
              jsonb_build_object('offset', ok.offset_::text, 'deadline', ok.deadline,
                                 'reminder', ok.reminders_sent)
         FROM ok),
msg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
        SELECT 'confirmation.reminder', ok.id, ok.cycle,
               jsonb_build_object('type', 'confirmation.reminder',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'confirm_url', $2::text || '/c/' || ok.tok,
                   'deadline', to_char((ok.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule))
          FROM ok RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $3::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified
