-- dormantctl resume: lifts the pause and clears its reason, with its audit
-- event (who had paused stays in paused_by, for that event).
WITH u AS (UPDATE {S}.control SET paused = false, paused_reason = NULL WHERE paused
           RETURNING paused_by),
 e AS (INSERT INTO {S}.event (kind, actor, detail)
       SELECT 'unpaused', $(actor), jsonb_build_object('paused_by', u.paused_by) FROM u)
 SELECT (SELECT count(*) FROM u)
