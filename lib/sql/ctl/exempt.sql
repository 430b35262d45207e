-- dormantctl exempt: the exemption (replacing an earlier one) and its audit
-- event; returns how long, and the account's state.
WITH x AS (INSERT INTO {S}.exemption (subscriber_id, until, reason, actor)
           VALUES ($(id)::{ID_TYPE}, $(until)::timestamptz, $(reason), $(actor))
           ON CONFLICT (subscriber_id) DO UPDATE SET until = EXCLUDED.until,
             reason = EXCLUDED.reason, actor = EXCLUDED.actor, created_at = now()
           RETURNING subscriber_id, until),
 e AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT x.subscriber_id, 'exempted',
              (SELECT cycle FROM {S}.account WHERE subscriber_id = x.subscriber_id), $(actor),
              jsonb_build_object('until', x.until, 'reason', $(reason)::text) FROM x)
 SELECT coalesce('until ' || to_char(x.until, 'YYYY-MM-DD HH24:MI:SS"Z"'),
                 'indefinitely'),
        (SELECT state FROM {S}.account WHERE subscriber_id = x.subscriber_id)
   FROM x
