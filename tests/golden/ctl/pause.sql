-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = actor
-- $2 = reason
WITH u AS (UPDATE "Dm_x".control SET paused = true, paused_by = $1, paused_at = now(),
                  paused_reason = nullif($2::text, '')
            WHERE NOT paused RETURNING paused_at),
 e AS (INSERT INTO "Dm_x".event (kind, actor, detail)
       SELECT 'paused', $1, CASE WHEN $2 = '' THEN '{}'::jsonb
              ELSE jsonb_build_object('reason', $2::text) END FROM u)
 SELECT (SELECT count(*) FROM u), c.paused_by,
        to_char(c.paused_at, 'YYYY-MM-DD HH24:MI:SS"Z"') FROM "Dm_x".control c
