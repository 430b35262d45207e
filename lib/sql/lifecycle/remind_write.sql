-- One reminder at a time: the next offset of the request's own schedule
-- (account.reminders, fixed at its delivery), even when it comes late (after
-- a pause or an outage). Its delivery moves the deadline to delivery +
-- offset where needed and schedules the next one (the outbox_delivered
-- trigger, migrations/0002). The message states the deadline it will have
-- at the earliest delivery.
-- Reminds nobody while the cluster-wide pause is set, and says so.
,
pick AS (SELECT due.*, nextval({SEQ}) AS outbox_id FROM due),
acc AS (UPDATE {S}.account a
           SET reminders_sent = a.reminders_sent + 1, next_reminder_at = NULL,
               reminder_outbox_id = pick.outbox_id, updated_at = now()
          FROM pick WHERE a.subscriber_id = pick.id AND a.state = 'pending'
           AND a.next_reminder_at <= now() AND a.reminder_outbox_id IS NULL
           AND NOT (SELECT paused FROM {S}.control)
        RETURNING a.subscriber_id, a.cycle, a.reminders_sent,
                  greatest(a.deadline, {S}.deadline_end(now() + a.reminders[a.reminders_sent],
                                                        a.confirm_within)) AS deadline,
                  a.reminders[a.reminders_sent] AS offset_),
-- A new token per reminder, made by the database (see request_write.sql).
ok AS (SELECT pick.id, pick.n, pick.email, pick.locale, pick.la, pick.rule, pick.outbox_id,
              acc.cycle, acc.deadline, acc.reminders_sent, acc.offset_,
              translate(rtrim(encode(uuid_send(gen_random_uuid())
                || uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_') AS tok
         FROM pick JOIN acc ON acc.subscriber_id = pick.id),
tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'reminded', ok.cycle, 'daemon',
              jsonb_build_object('offset', ok.offset_::text, 'deadline', ok.deadline,
                                 'reminder', ok.reminders_sent, 'outbox_id', ok.outbox_id)
         FROM ok),
msg AS (INSERT INTO {S}.outbox (id, type, subscriber_id, cycle, payload)
        SELECT ok.outbox_id, 'confirmation.reminder', ok.id, ok.cycle,
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
