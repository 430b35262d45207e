-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = actor
WITH g AS (SELECT guards->'backlog' AS b FROM "Dm_x".control),
 u AS (UPDATE "Dm_x".control SET backlog_accepted = (g.b->>'count')::integer,
              backlog_accepted_at = now()
         FROM g WHERE jsonb_typeof(g.b) = 'object'
          AND coalesce((g.b->>'tripped')::boolean, false)
       RETURNING backlog_accepted),
 e AS (INSERT INTO "Dm_x".event (kind, actor, detail)
       SELECT 'backlog_accepted', $1, jsonb_build_object('count', u.backlog_accepted) FROM u)
 SELECT (SELECT backlog_accepted FROM u), (SELECT b::text FROM g)
