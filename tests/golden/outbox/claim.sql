-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = channels
-- $2 = limit
-- $3 = me
-- $4 = lease
-- $5 = confirm
WITH cand AS (
  SELECT id, type, subscriber_id, cycle FROM "Dm_x".outbox
   WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
     AND (claimed_until IS NULL OR claimed_until < now())
     AND NOT (channels_done @> $1::text[])
     AND NOT COALESCE((SELECT paused FROM "Dm_x".control LIMIT 1), false)
   ORDER BY next_attempt_at LIMIT $2::int FOR UPDATE SKIP LOCKED),
 gone AS (
  UPDATE "Dm_x".outbox o SET dead_at = now(),
         last_error = 'superseded: the subscriber is no longer pending'
    FROM cand c WHERE o.id = c.id AND c.type LIKE 'confirmation.%'
     AND NOT EXISTS (SELECT 1 FROM "Dm_x".account a WHERE a.subscriber_id = c.subscriber_id
                        AND a.state = 'pending' AND a.cycle = c.cycle)
  RETURNING o.id),
 due AS (SELECT id FROM cand WHERE id NOT IN (SELECT id FROM gone)),
 claimed AS (
  UPDATE "Dm_x".outbox o SET claimed_by = $3, claimed_until = now() + $4::interval,
         payload = COALESCE(jsonb_set(o.payload, '{data,email}', to_jsonb(
                     (SELECT s."email"::text FROM "public"."subscribers" s WHERE s."id" = o.subscriber_id))),
                   o.payload)
    FROM due WHERE o.id = due.id
  RETURNING o.id, o.type, o.subscriber_id, o.attempts, o.channels_done, o.payload,
            o.created_at),
 dl AS (SELECT to_char("Dm_x".deadline_end(now() + p.cw, p.cw) AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS deadline
          FROM (SELECT GREATEST((SELECT confirm_within FROM "Dm_x".control LIMIT 1),
                                $5::interval) AS cw) p)
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
