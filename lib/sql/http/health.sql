-- GET /healthz: the control row as JSON; paused also when this process is
-- ($(paused): SIGUSR1).
SELECT json_build_object('db', 'up', 'paused', c.paused OR $(paused)::boolean,
 'guards', c.guards, 'last_pass', json_build_object(
'at', to_char(c.last_pass_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
 'duration_ms', c.last_pass_ms, 'outcome', c.last_pass_outcome))::text
 FROM {S}.control c
