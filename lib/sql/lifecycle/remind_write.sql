-- Reminds nobody while the cluster-wide pause is set, and says so.
,
acc AS (UPDATE {S}.account a
           SET reminders_sent = (SELECT count(*) FROM unnest($(reminders)::interval[]) r
                                  WHERE a.deadline - r <= now()),
               next_reminder_at = (SELECT min(a.deadline - r) FROM unnest($(reminders)::interval[]) r
                                    WHERE a.deadline - r > now()),
               updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
           AND a.next_reminder_at <= now() AND a.deadline > now()
           AND NOT (SELECT paused FROM {S}.control)
        RETURNING a.subscriber_id, a.cycle, a.deadline, a.reminders_sent),
-- A new token per reminder, made by the database (see request_write.sql).
ok AS (SELECT due.id, due.n, due.email, due.locale, due.la, due.rule, acc.cycle,
              acc.deadline, acc.reminders_sent,
              translate(rtrim(encode(decode(replace(gen_random_uuid()::text
                || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '='), '+/', '-_') AS tok,
              (SELECT min(r) FROM unnest($(reminders)::interval[]) r WHERE acc.deadline - r <= now())
                AS offset_
         FROM due JOIN acc ON acc.subscriber_id = due.id),
tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reminded', ok.cycle, 'daemon',
              jsonb_build_object('offset', ok.offset_::text, 'deadline', ok.deadline,
                                 'reminder', ok.reminders_sent)
         FROM ok),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'confirmation.reminder', ok.id, ok.cycle,
               jsonb_build_object('type', 'confirmation.reminder',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'confirm_url', $(url)::text || '/c/' || ok.tok,
                   'deadline', to_char((ok.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule))
          FROM ok RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM {S}.control) AS paused
