-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = ms
-- $2 = outcome
-- $3 = last
-- $4 = guards
-- $5 = spent
UPDATE "Dm_x".control SET last_pass_at = now(), last_pass_ms = $1::integer,
 last_pass_outcome = $2, last_pass = $3::jsonb,
 guards = CASE WHEN $4::jsonb #>> '{backlog,eligible_at}' = 'now'
   THEN jsonb_set($4::jsonb, '{backlog,eligible_at}', to_jsonb(now()))
   WHEN $4::jsonb #> '{backlog,eligible}' <> 'null'
   THEN jsonb_set($4::jsonb, '{backlog,eligible_at}',
                  coalesce(guards #> '{backlog,eligible_at}', 'null'))
   ELSE $4::jsonb END,
 backlog_accepted = CASE WHEN $5::boolean THEN NULL ELSE backlog_accepted END
