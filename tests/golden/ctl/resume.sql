-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = actor
WITH u AS (UPDATE "Dm_x".control SET paused = false, paused_reason = NULL WHERE paused
           RETURNING paused_by),
 e AS (INSERT INTO "Dm_x".event (kind, actor, detail)
       SELECT 'unpaused', $1, jsonb_build_object('paused_by', u.paused_by) FROM u)
 SELECT (SELECT count(*) FROM u)
