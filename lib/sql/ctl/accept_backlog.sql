-- dormantctl accept-backlog: accepts exactly the backlog counted now,
-- $(count), when the guards read now say it is tripped (a first run, before
-- any pass counted); else the backlog the engine last counted when that
-- tripped the guard (guards.backlog). A later, larger backlog trips the
-- guard again.
WITH g AS (SELECT guards->'backlog' AS b FROM {S}.control),
 n AS (SELECT coalesce($(count)::integer,
                CASE WHEN jsonb_typeof(g.b) = 'object'
                      AND coalesce((g.b->>'tripped')::boolean, false)
                     THEN (g.b->>'count')::integer END) AS count FROM g),
 u AS (UPDATE {S}.control SET backlog_accepted = n.count, backlog_accepted_at = now()
         FROM n WHERE n.count IS NOT NULL
       RETURNING backlog_accepted),
 e AS (INSERT INTO {S}.event (kind, actor, detail)
       SELECT 'backlog_accepted', $(actor), jsonb_build_object('count', u.backlog_accepted) FROM u)
 SELECT (SELECT backlog_accepted FROM u), (SELECT b::text FROM g)
