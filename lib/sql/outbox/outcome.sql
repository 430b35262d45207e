-- Records the outcomes of a batch of rows (and, for those that are dead,
-- their delivery_failed events): one array per column of the outcome. It
-- applies only to rows still claimed by $(me) and still open (o.id = ANY
-- lets the planner use the primary key rather than scan the outbox to join
-- the arrays). The rows it delivers leave outbox_due, and the
-- outbox_delivered trigger records them all at the statement's end, set-based
-- (events, the grace period from the deadline stored here, reminders); the
-- link is dropped here, so that no per-row trigger function runs. A row that
-- will be tried again is due after its delay, or at once when nothing
-- delays it (the claim skips it while its active channels are done).
-- Returns the ids it applied to, in the order of the arrays.
WITH v AS (
  SELECT * FROM unnest($(ids)::bigint[], $(done)::text[], $(delivered)::boolean[], $(stated)::text[],
                       $(dead)::boolean[], $(delay)::interval[], $(err)::text[], $(channel)::text[],
                       $(counted)::boolean[]) WITH ORDINALITY
    AS v(id, done, delivered, stated, dead, delay, err, channel, counted, ord)),
 upd AS (
  UPDATE {S}.outbox o SET
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
  WHERE o.id = v.id AND o.id = ANY($(ids)::bigint[]) AND o.claimed_by = $(me)
    AND o.delivered_at IS NULL AND o.dead_at IS NULL
  RETURNING o.id, o.subscriber_id, o.cycle, o.type, o.attempts, v.dead, v.channel,
            v.err, v.ord),
 ev AS (
  INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
  SELECT subscriber_id, 'delivery_failed', cycle, 'daemon',
         jsonb_build_object('outbox_id', id, 'type', type, 'channel', channel,
                            'error', err, 'attempts', attempts)
    FROM upd WHERE dead
  RETURNING 1)
 SELECT id::text FROM upd ORDER BY ord
