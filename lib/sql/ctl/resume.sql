-- dormantctl resume: lifts the pause, with its audit event.
WITH u AS (UPDATE {S}.control SET paused = false WHERE paused RETURNING paused_by),
 e AS (INSERT INTO {S}.event (kind, actor, detail)
       SELECT 'unpaused', $(actor), jsonb_build_object('paused_by', u.paused_by) FROM u)
 SELECT (SELECT count(*) FROM u)
