-- dormantctl accept-backlog: accepts exactly the backlog the engine last
-- counted (guards.backlog); a later, larger backlog trips the guard again.
WITH g AS (SELECT guards->'backlog' AS b FROM {S}.control),
 u AS (UPDATE {S}.control SET backlog_accepted = (g.b->>'count')::integer,
              backlog_accepted_at = now()
         FROM g WHERE jsonb_typeof(g.b) = 'object'
          AND coalesce((g.b->>'tripped')::boolean, false)
       RETURNING backlog_accepted),
 e AS (INSERT INTO {S}.event (kind, actor, detail)
       SELECT 'backlog_accepted', $(actor), jsonb_build_object('count', u.backlog_accepted) FROM u)
 SELECT (SELECT backlog_accepted FROM u), (SELECT b::text FROM g)
