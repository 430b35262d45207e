-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = url
-- $2 = limit
WITH due AS (SELECT a.subscriber_id AS id, a.cycle, a.deadline, a.rule,
                    s."email"::text AS email, s."locale"::text AS locale,
                    (s."last_activity_at") AS la, a.next_reminder_at,
                    row_number() OVER (ORDER BY a.next_reminder_at, a.subscriber_id) AS n
               FROM "Dm_x".account a JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
              WHERE a.state = 'pending' AND a.next_reminder_at <= now()
                AND a.reminder_outbox_id IS NULL
                AND NOT coalesce((s."last_activity_at") > a.requested_at, false)
              ORDER BY a.next_reminder_at, a.subscriber_id LIMIT $2::integer)
,
pick AS (SELECT due.*, nextval('"Dm_x".outbox_id_seq') AS outbox_id FROM due),
acc AS (UPDATE "Dm_x".account a
           SET reminders_sent = a.reminders_sent + 1, next_reminder_at = NULL,
               reminder_outbox_id = pick.outbox_id, updated_at = now()
          FROM pick WHERE a.subscriber_id = pick.id AND a.state = 'pending'
           AND a.next_reminder_at <= now() AND a.reminder_outbox_id IS NULL
           AND NOT (SELECT paused FROM "Dm_x".control)
        RETURNING a.subscriber_id, a.cycle, a.reminders_sent,
                  greatest(a.deadline, "Dm_x".deadline_end(now() + a.reminders[a.reminders_sent],
                                                        a.confirm_within)) AS deadline,
                  a.reminders[a.reminders_sent] AS offset_),

ok AS (SELECT pick.id, pick.n, pick.email, pick.locale, pick.la, pick.rule, pick.outbox_id,
              acc.cycle, acc.deadline, acc.reminders_sent, acc.offset_,
              translate(rtrim(encode(uuid_send(gen_random_uuid())
                || uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_') AS tok
         FROM pick JOIN acc ON acc.subscriber_id = pick.id),
tok AS (INSERT INTO "Dm_x".token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reminded', ok.cycle, 'daemon',
              jsonb_build_object('offset', ok.offset_::text, 'deadline', ok.deadline,
                                 'reminder', ok.reminders_sent, 'outbox_id', ok.outbox_id)
         FROM ok),
msg AS (INSERT INTO "Dm_x".outbox (id, type, subscriber_id, cycle, payload)
        SELECT ok.outbox_id, 'confirmation.reminder', ok.id, ok.cycle,
               jsonb_build_object('type', 'confirmation.reminder',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'confirm_url', $1::text || '/c/' || ok.tok,
                   'deadline', to_char((ok.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule))
          FROM ok RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $2::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM "Dm_x".control) AS paused
