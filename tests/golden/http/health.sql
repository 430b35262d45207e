-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = paused
-- $2 = webhook_disabled
SELECT json_build_object('db', 'up', 'paused', c.paused OR $1::boolean,
 'paused_reason', CASE WHEN c.paused THEN (SELECT e.detail->>'reason' FROM "Dm_x".event e
                   WHERE e.kind = 'paused' ORDER BY e.id DESC LIMIT 1)
                   WHEN $1::boolean THEN 'SIGUSR1 to this process' END,
 'endpoints_disabled', CASE WHEN $2::boolean
   THEN json_build_array('webhook') ELSE json_build_array() END,
 'guards', c.guards, 'last_pass', json_build_object(
'at', to_char(c.last_pass_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
 'duration_ms', c.last_pass_ms, 'outcome', c.last_pass_outcome))::text
 FROM "Dm_x".control c
