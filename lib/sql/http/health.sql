-- GET /healthz: the control row as JSON; paused also when this process is
-- ($(paused): SIGUSR1), and why (the control row's paused_reason, from
-- dormantctl pause --reason, or the signal); the channels this process
-- stopped using ($(webhook_disabled): 410 Gone).
-- This $(instance) as the database knows it (leader or not), the lease, and
-- every instance's report (lib/lease.h).
SELECT json_build_object('db', 'up', 'paused', c.paused OR $(paused)::boolean,
 'paused_reason', CASE WHEN c.paused THEN c.paused_reason
                   WHEN $(paused)::boolean THEN 'SIGUSR1 to this process' END,
 'endpoints_disabled', CASE WHEN $(webhook_disabled)::boolean
   THEN json_build_array('webhook') ELSE json_build_array() END,
 'guards', c.guards, 'last_pass', json_build_object(
'at', to_char(c.last_pass_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
 'duration_ms', c.last_pass_ms, 'outcome', c.last_pass_outcome),
 'instance', json_build_object('id', $(instance)::text,
   'leader', l.holder = $(instance)::text AND l.live),
 'leader', CASE WHEN l.live THEN json_build_object('id', l.holder, 'host', i.host, 'pid', i.pid,
   'epoch', l.epoch, 'expires_at', to_char(l.expires_at AT TIME ZONE 'UTC',
   'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
 'instances', (SELECT coalesce(json_agg(json_build_object('id', x.id, 'host', x.host,
   'pid', x.pid, 'version', x.version, 'leader', x.id = l.holder AND l.live,
   'paused', x.paused, 'disabled_endpoints', x.disabled_endpoints,
   'stale', x.stale_at < now() AND NOT (x.id = l.holder AND l.live))
   ORDER BY x.started_at, x.id), '[]')
   FROM {S}.instance x))::text
 FROM {S}.control c,
      (SELECT *, expires_at > now() AS live FROM {S}.lease) l
      LEFT JOIN {S}.instance i ON i.id = l.holder
