-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = count
-- $2 = actor
WITH g AS (SELECT guards->'backlog' AS b FROM "Dm_x".control),
 n AS (SELECT coalesce($1::integer,
                CASE WHEN jsonb_typeof(g.b) = 'object'
                      AND coalesce((g.b->>'tripped')::boolean, false)
                     THEN (g.b->>'count')::integer END) AS count FROM g),
 u AS (UPDATE "Dm_x".control SET backlog_accepted = n.count, backlog_accepted_at = now()
         FROM n WHERE n.count IS NOT NULL
       RETURNING backlog_accepted),
 e AS (INSERT INTO "Dm_x".event (kind, actor, detail)
       SELECT 'backlog_accepted', $2, jsonb_build_object('count', u.backlog_accepted) FROM u)
 SELECT (SELECT backlog_accepted FROM u), (SELECT b::text FROM g)
