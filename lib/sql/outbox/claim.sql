-- Claims up to $(limit) due rows for $(lease), for the active $(channels).
-- A request states the deadline it is sent with: now() plus the
-- confirmation period (the longer of the database's and the file's
-- $(confirm)), moved to the end of its day (deadline_end), so the one the
-- trigger enforces at delivery is never earlier. The cluster-wide pause (control.paused) is
-- checked here too, so that no instance delivers before it has read the
-- flag. The address is the one the source holds now (an operator may have
-- fixed it since the message was queued; an erased row keeps the one it
-- was queued with), written into the payload so the row records the
-- address each attempt used: one primary-key lookup per claimed row. A
-- request or reminder whose subscriber is no longer pending in its cycle
-- is retired instead of sent (promise 3: nothing of a cycle is delivered
-- after the account left pending).
WITH cand AS (
  SELECT id, type, subscriber_id, cycle FROM {S}.outbox
   WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
     AND (claimed_until IS NULL OR claimed_until < now())
     AND NOT (channels_done @> $(channels)::text[])
     AND NOT COALESCE((SELECT paused FROM {S}.control LIMIT 1), false)
   ORDER BY next_attempt_at LIMIT $(limit)::int FOR UPDATE SKIP LOCKED),
 gone AS (
  UPDATE {S}.outbox o SET dead_at = now(),
         last_error = 'superseded: the subscriber is no longer pending'
    FROM cand c WHERE o.id = c.id AND c.type LIKE 'confirmation.%'
     AND NOT EXISTS (SELECT 1 FROM {S}.account a WHERE a.subscriber_id = c.subscriber_id
                        AND a.state = 'pending' AND a.cycle = c.cycle)
  RETURNING o.id),
 due AS (SELECT id FROM cand WHERE id NOT IN (SELECT id FROM gone)),
 claimed AS (
  UPDATE {S}.outbox o SET claimed_by = $(me), claimed_until = now() + $(lease)::interval,
         payload = COALESCE(jsonb_set(o.payload, '{data,email}', to_jsonb(
                     (SELECT s.{EMAIL}::text FROM {SRC} s WHERE s.{ID} = o.subscriber_id))),
                   o.payload)
    FROM due WHERE o.id = due.id
  RETURNING o.id, o.type, o.subscriber_id, o.attempts, o.channels_done, o.payload,
            o.created_at),
 dl AS (SELECT to_char({S}.deadline_end(now() + p.cw, p.cw) AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS deadline
          FROM (SELECT GREATEST((SELECT confirm_within FROM {S}.control LIMIT 1),
                                $(confirm)::interval) AS cw) p)
 SELECT c.id, c.type, c.subscriber_id::text, c.attempts,
        'webhook' = ANY(c.channels_done), 'email' = ANY(c.channels_done),
        x.p::text, x.p #>> '{data,deadline}',
        CASE WHEN c.type = 'confirmation.requested' THEN x.p #>> '{data,deadline}' END,
        extract(epoch FROM now())::bigint,
        to_char(now() AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "+0000"'),
        x.p #>> '{data,email}', x.p #>> '{data,locale}', x.p #>> '{data,confirm_url}',
        x.p #>> '{data,last_activity_at}', x.p #>> '{data,rule}', x.p #>> '{data,reason}'
   FROM claimed c CROSS JOIN dl
   CROSS JOIN LATERAL (SELECT CASE WHEN c.type = 'confirmation.requested'
          THEN jsonb_set(b.p, '{data,deadline}', to_jsonb(dl.deadline)) ELSE b.p END AS p
     FROM (SELECT COALESCE(c.payload, jsonb_build_object('type', c.type,
             'timestamp', to_char(c.created_at AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
             'data', jsonb_build_object('subscriber_id', c.subscriber_id::text))) AS p) b) x
  ORDER BY c.id
