-- What the sweep writes. Whoever it finds due gets recheck_at = the time
-- they became due, so that the next pass's recheck step asks them under the
-- same guards as everyone else (backlog count, rate, oldest inactivity
-- first, stale feed, pause). Pending subscribers who left, and accounts in
-- the page's key range whose row is gone (a per-row primary key probe:
-- OFFSET 0 keeps it from becoming an anti-join over the source), leave the
-- lifecycle through withdraw_write.sql, which follows; an erased customer
-- whose billing is active again is tracked again, unless forgotten
-- (dormantctl forget: never asked again, with data that was erased).
,
mark AS (INSERT INTO {S}.account AS a (subscriber_id, recheck_at)
         SELECT f.id, least(now(), f.ord + f.after) FROM found f
         ON CONFLICT (subscriber_id) DO UPDATE
            SET recheck_at = least(a.recheck_at, EXCLUDED.recheck_at), updated_at = now()
          WHERE a.state = 'active'
            AND (a.recheck_at IS NULL OR a.recheck_at > EXCLUDED.recheck_at)
         RETURNING 1),
back AS (UPDATE {S}.account a SET state = 'active', suspended_at = NULL,
                confirmed_at = now(), recheck_at = NULL, updated_at = now()
           FROM dec d WHERE d.astate = 'erased' AND d.billing_ok
            AND a.subscriber_id = d.id AND a.state = 'erased'
            AND NOT EXISTS (SELECT 1 FROM {S}.event f WHERE f.subscriber_id = a.subscriber_id
                              AND f.kind = 'forgotten')
         RETURNING a.subscriber_id, a.cycle, d.email, d.locale),
bev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
        SELECT back.subscriber_id, 'reactivated', back.cycle, 'daemon',
               jsonb_build_object('cause', 'billing active again after erasure')
          FROM back),
bmsg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.reactivated', back.subscriber_id, back.cycle,
                jsonb_build_object('type', 'subscription.reactivated',
                  'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', jsonb_build_object('subscriber_id', back.subscriber_id::text,
                    'email', back.email, 'locale', back.locale))
           FROM back RETURNING 1),
w AS (SELECT d.id, d.astate AS was,
             CASE WHEN NOT d.billing_ok THEN 'billing'
                  WHEN NOT d.elig THEN 'ineligible' ELSE 'exempt' END AS cause
        FROM dec d
       WHERE d.astate = 'pending' AND (NOT d.billing_ok OR NOT d.elig OR d.exempt)
      UNION ALL
      SELECT a.subscriber_id, a.state, 'deleted' FROM {S}.account a
       WHERE a.subscriber_id >= coalesce((SELECT sweep_cursor FROM ctl),
                                 (SELECT subscriber_id FROM {S}.account ORDER BY 1 LIMIT 1))
         AND a.subscriber_id <= coalesce((SELECT id FROM hi),
                                 (SELECT subscriber_id FROM {S}.account ORDER BY 1 DESC LIMIT 1))
         AND a.subscriber_id IS DISTINCT FROM (SELECT sweep_cursor FROM ctl)
         AND a.state <> 'erased'
         AND NOT EXISTS (SELECT 1 FROM {SRC} s WHERE s.{ID} = a.subscriber_id OFFSET 0))
