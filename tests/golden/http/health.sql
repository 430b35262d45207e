-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = paused
-- $2 = webhook_disabled
-- $3 = instance
SELECT json_build_object('db', 'up', 'paused', c.paused OR $1::boolean,
 'paused_reason', CASE WHEN c.paused THEN c.paused_reason
                   WHEN $1::boolean THEN 'SIGUSR1 to this process' END,
 'endpoints_disabled', CASE WHEN $2::boolean
   THEN json_build_array('webhook') ELSE json_build_array() END,
 'guards', c.guards, 'last_pass', json_build_object(
'at', to_char(c.last_pass_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
 'duration_ms', c.last_pass_ms, 'outcome', c.last_pass_outcome),
 'instance', json_build_object('id', $3::text,
   'leader', l.holder = $3::text AND l.live),
 'leader', CASE WHEN l.live THEN json_build_object('id', l.holder, 'host', i.host, 'pid', i.pid,
   'epoch', l.epoch, 'expires_at', to_char(l.expires_at AT TIME ZONE 'UTC',
   'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
 'instances', (SELECT coalesce(json_agg(json_build_object('id', x.id, 'host', x.host,
   'pid', x.pid, 'version', x.version, 'leader', x.id = l.holder AND l.live,
   'paused', x.paused, 'disabled_endpoints', x.disabled_endpoints,
   'stale', x.stale_at < now() AND NOT (x.id = l.holder AND l.live))
   ORDER BY x.started_at, x.id), '[]')
   FROM "Dm_x".instance x))::text
 FROM "Dm_x".control c,
      (SELECT *, expires_at > now() AS live FROM "Dm_x".lease) l
      LEFT JOIN "Dm_x".instance i ON i.id = l.holder
