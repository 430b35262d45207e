-- Writes a batch of requests: account, token, event, message.
-- {RECHECK}: true for the recheck step (a skipped account's recheck time is
-- cleared), false otherwise. {MARK}: the watermark update
-- (request_mark_*.sql) or nothing; {MARK_COLUMNS}: request_mark_columns.sql
-- or request_no_mark_columns.sql.
-- While the cluster-wide pause is set it requests nobody and changes no
-- recheck time nor watermark (brake), and says so.
,
brake AS (SELECT paused FROM {S}.control),
-- Each link's token is made here, by the database, and never travels as a
-- parameter: a server that logs every statement and its parameters never
-- logs a working token. Two version-4 UUIDs from the server's strong random
-- source (pg_strong_random) are 244 random bits, written as 43 base64url
-- characters like the daemon's own tokens (their bytes as they are:
-- uuid_send, not text and back). Message ids follow the batch's order
-- (oldest inactivity first); the rows are written in subscriber order, so
-- that the indexes on subscriber_id take them as one ascending run.
pick AS (SELECT d.*, nextval({SEQ}) AS outbox_id,
                translate(rtrim(encode(uuid_send(gen_random_uuid())
                  || uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_') AS tok
           FROM (SELECT d.* FROM dec d WHERE d.decision = 'request'
                    AND NOT (SELECT paused FROM brake)
                  ORDER BY d.ord, d.id) d),
acc AS (INSERT INTO {S}.account AS a (subscriber_id, state, cycle, rule, requested_at,
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
-- The accounts written (id -> cycle) as one object, looked up per row: a
-- join of the two sets costs what the planner guesses of them, and when it
-- guesses a row each (as for a never-active batch) it nests the loops: a
-- batch of 1,000 cost twice as much, one of 10,000 would take seconds.
accm AS (SELECT jsonb_object_agg(acc.subscriber_id::text, acc.cycle) AS m FROM acc),
ok AS (SELECT p.*, ((SELECT m FROM accm) ->> p.id::text)::integer AS cycle
         FROM pick p WHERE (SELECT m FROM accm) ? p.id::text ORDER BY p.id),
tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)
        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT ok.id, 'requested', ok.cycle, 'daemon',
              jsonb_build_object('rule', ok.rule, 'after', ok.after::text,
                                 'last_activity_at', ok.la, 'created_at', ok.created,
                                 'min_account_age', $(min_age)::interval::text)
         FROM ok),
msg AS (INSERT INTO {S}.outbox (id, type, subscriber_id, cycle, payload)
        SELECT ok.outbox_id, 'confirmation.requested', ok.id, ok.cycle,
               jsonb_build_object('type', 'confirmation.requested',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', ok.id::text,
                   'email', ok.email, 'locale', ok.locale,
                   'confirm_url', $(url)::text || '/c/' || ok.tok,
                   'last_activity_at', to_char((ok.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'rule', ok.rule))
          FROM ok RETURNING 1),
later AS (INSERT INTO {S}.account AS a (subscriber_id, recheck_at)
          SELECT d.id, CASE WHEN d.decision = 'later' THEN d.later_at END FROM dec d
           WHERE (d.decision = 'later' OR (d.decision = 'skip' AND d.astate = 'active' AND {RECHECK}))
             AND NOT (SELECT paused FROM brake)
          ON CONFLICT (subscriber_id) DO UPDATE
             SET recheck_at = EXCLUDED.recheck_at,
                 confirmed_at = CASE WHEN EXCLUDED.recheck_at IS NULL THEN NULL
                                     ELSE a.confirmed_at END,
                 updated_at = now()
           WHERE a.state = 'active'){MARK}
 SELECT (SELECT count(*) FROM acc) AS moved,
        (SELECT count(*) FROM raw) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified{MARK_COLUMNS},
        (SELECT paused FROM brake) AS paused
