-- What the pass did, into the control row. "eligible_at": "now" in the
-- guards JSON becomes the database's time; a cached eligible count keeps
-- the time it was counted. An accepted backlog is spent once the pass
-- requested it all.
UPDATE {S}.control SET last_pass_at = now(), last_pass_ms = $(ms)::integer,
 last_pass_outcome = $(outcome), last_pass = $(last)::jsonb,
 guards = CASE WHEN $(guards)::jsonb #>> '{backlog,eligible_at}' = 'now'
   THEN jsonb_set($(guards)::jsonb, '{backlog,eligible_at}', to_jsonb(now()))
   WHEN $(guards)::jsonb #> '{backlog,eligible}' <> 'null'
   THEN jsonb_set($(guards)::jsonb, '{backlog,eligible_at}',
                  coalesce(guards #> '{backlog,eligible_at}', 'null'))
   ELSE $(guards)::jsonb END,
 backlog_accepted = CASE WHEN $(spent)::boolean THEN NULL ELSE backlog_accepted END
