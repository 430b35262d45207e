-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = ids
-- $2 = done
-- $3 = delivered
-- $4 = stated
-- $5 = dead
-- $6 = delay
-- $7 = err
-- $8 = channel
-- $9 = counted
-- $10 = me
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[],
                       $5::boolean[], $6::interval[], $7::text[], $8::text[],
                       $9::boolean[]) WITH ORDINALITY
    AS v(id, done, delivered, stated, dead, delay, err, channel, counted, ord)),
 upd AS (
  UPDATE "Dm_x".outbox o SET
    channels_done = v.done::text[],
    delivered_at = CASE WHEN v.delivered THEN now() END,
    payload = (CASE WHEN v.stated IS NOT NULL AND o.payload ? 'data'
                     AND (o.payload #>> '{data,deadline}' IS NULL
                          OR (o.payload #>> '{data,deadline}')::timestamptz
                             < v.stated::timestamptz)
               THEN jsonb_set(o.payload, '{data,deadline}', to_jsonb(v.stated))
               ELSE o.payload END)
              #- CASE WHEN v.delivered THEN '{data,confirm_url}' ELSE '{}' END::text[],
    attempts = o.attempts + CASE WHEN v.counted THEN 1 ELSE 0 END,
    last_error = COALESCE(v.err, o.last_error),
    next_attempt_at = now() + COALESCE(v.delay, interval '0'),
    dead_at = CASE WHEN v.dead THEN now() END,
    claimed_by = NULL, claimed_until = NULL
   FROM v
  WHERE o.id = v.id AND o.id = ANY($1::bigint[]) AND o.claimed_by = $10
    AND o.delivered_at IS NULL AND o.dead_at IS NULL
  RETURNING o.id, o.subscriber_id, o.cycle, o.type, o.attempts, v.dead, v.channel,
            v.err, v.ord),
 ev AS (
  INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
  SELECT subscriber_id, 'delivery_failed', cycle, 'daemon',
         jsonb_build_object('outbox_id', id, 'type', type, 'channel', channel,
                            'error', err, 'attempts', attempts)
    FROM upd WHERE dead
  RETURNING 1)
 SELECT id::text FROM upd ORDER BY ord
