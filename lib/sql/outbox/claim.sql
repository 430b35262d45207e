-- Claims up to $(limit) due rows for $(lease), for the active $(channels).
-- The claim is a visibility time, as in the PostgreSQL job queues: it moves
-- next_attempt_at to the lease's end, so a claimed row leaves the head of
-- outbox_due (the next claim reads the next due rows, not the ones in
-- flight) and is due again, for any instance, if its outcome is never
-- written. claimed_until still says the same, for instances of the
-- previous version that filter on it. A claim reads outbox_due from just
-- after ($(after_at), $(after_id)), the position the previous claim ended
-- at (returned with every row), rather than from its head: the head holds
-- an entry of every row claimed since the last vacuum, dead but still read.
-- A row that became due behind that position (written by a transaction
-- that began earlier, or passed over while locked or waiting) is found by
-- a claim from ('-infinity', 0), which the daemon sends at least every
-- poll and when notified of new messages. Messages to one subscriber go in the
-- order they were written: a row waits while an older one of the same
-- subscriber is neither delivered nor dead (outbox_subscriber, a few rows).
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
  SELECT id, type, subscriber_id, cycle, next_attempt_at FROM {S}.outbox o
   WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
     AND (next_attempt_at, id) > ($(after_at)::timestamptz, $(after_id)::bigint)
     AND (claimed_until IS NULL OR claimed_until < now())
     AND NOT (channels_done @> $(channels)::text[])
     AND NOT COALESCE((SELECT paused FROM {S}.control LIMIT 1), false)
     AND NOT EXISTS (SELECT 1 FROM {S}.outbox p
                      WHERE p.subscriber_id = o.subscriber_id AND p.id < o.id
                        AND p.delivered_at IS NULL AND p.dead_at IS NULL)
   ORDER BY next_attempt_at, id LIMIT $(limit)::int FOR UPDATE SKIP LOCKED),
 pos AS (SELECT next_attempt_at::text AS at, id::text AS id FROM cand
          ORDER BY next_attempt_at DESC, id DESC LIMIT 1),
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
         next_attempt_at = now() + $(lease)::interval,
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
        x.p #>> '{data,last_activity_at}', x.p #>> '{data,rule}', x.p #>> '{data,reason}',
        pos.at, pos.id
   FROM claimed c CROSS JOIN dl CROSS JOIN pos
   CROSS JOIN LATERAL (SELECT CASE WHEN c.type = 'confirmation.requested'
          THEN jsonb_set(b.p, '{data,deadline}', to_jsonb(dl.deadline)) ELSE b.p END AS p
     FROM (SELECT COALESCE(c.payload, jsonb_build_object('type', c.type,
             'timestamp', to_char(c.created_at AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
             'data', jsonb_build_object('subscriber_id', c.subscriber_id::text))) AS p) b) x
  ORDER BY c.id
