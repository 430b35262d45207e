-- GET /healthz: the control row as JSON; paused also when this process is
-- ($(paused): SIGUSR1), and why (dormantctl pause --reason, or the signal);
-- the channels this process stopped using ($(webhook_disabled): 410 Gone).
SELECT json_build_object('db', 'up', 'paused', c.paused OR $(paused)::boolean,
 'paused_reason', CASE WHEN c.paused THEN (SELECT e.detail->>'reason' FROM {S}.event e
                   WHERE e.kind = 'paused' ORDER BY e.id DESC LIMIT 1)
                   WHEN $(paused)::boolean THEN 'SIGUSR1 to this process' END,
 'endpoints_disabled', CASE WHEN $(webhook_disabled)::boolean
   THEN json_build_array('webhook') ELSE json_build_array() END,
 'guards', c.guards, 'last_pass', json_build_object(
'at', to_char(c.last_pass_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
 'duration_ms', c.last_pass_ms, 'outcome', c.last_pass_outcome))::text
 FROM {S}.control c
