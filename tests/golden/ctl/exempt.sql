-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = until
-- $3 = reason
-- $4 = actor
WITH x AS (INSERT INTO "Dm_x".exemption (subscriber_id, until, reason, actor)
           VALUES ($1::bigint, $2::timestamptz, $3, $4)
           ON CONFLICT (subscriber_id) DO UPDATE SET until = EXCLUDED.until,
             reason = EXCLUDED.reason, actor = EXCLUDED.actor, created_at = now()
           RETURNING subscriber_id, until),
 e AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT x.subscriber_id, 'exempted',
              (SELECT cycle FROM "Dm_x".account WHERE subscriber_id = x.subscriber_id), $4,
              jsonb_build_object('until', x.until, 'reason', $3::text) FROM x)
 SELECT coalesce('until ' || to_char(x.until, 'YYYY-MM-DD HH24:MI:SS"Z"'),
                 'indefinitely'),
        (SELECT state FROM "Dm_x".account WHERE subscriber_id = x.subscriber_id)
   FROM x
