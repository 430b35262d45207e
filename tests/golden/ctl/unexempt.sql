-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = actor
WITH d AS (DELETE FROM "Dm_x".exemption WHERE subscriber_id = $1::bigint
           RETURNING subscriber_id, reason, until),
 e AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT d.subscriber_id, 'unexempted',
              (SELECT cycle FROM "Dm_x".account WHERE subscriber_id = d.subscriber_id), $2,
              jsonb_build_object('reason_was', d.reason, 'until_was', d.until) FROM d)
 SELECT count(*) FROM d
