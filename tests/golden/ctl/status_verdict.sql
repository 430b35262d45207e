-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT v.health, v.what, v.run
  FROM (SELECT $1::jsonb AS j) AS d,
  LATERAL (VALUES
   (1, (j->>'paused')::boolean, 'PAUSED',
    'paused by ' || coalesce(j->>'paused_by', '?')
      || coalesce(': ' || (j->>'paused_reason'), '') || '; nothing is requested, reminded, suspended or erased',
    'dormantctl resume   (once the cause is dealt with)'),
   (2, EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(j->'instances', '[]')) e
               WHERE (e->>'paused')::boolean AND NOT (e->>'stale')::boolean), 'PAUSED',
    'instance ' || (SELECT string_agg((e->>'host') || ':' || (e->>'pid'), ', ')
                      FROM jsonb_array_elements(j->'instances') e
                     WHERE (e->>'paused')::boolean AND NOT (e->>'stale')::boolean)
      || ' is paused by SIGUSR1: it runs no pass and starts no delivery',
    'kill -USR2 PID   (on that host; see the instances table below)'),
   (3, j#>>'{last_pass,outcome}' LIKE 'failed%', 'FAILING',
    'the last pass failed: ' || (j#>>'{last_pass,outcome}'),
    'journalctl -u dormantd   (the error names what to fix)'),
   (4, coalesce((j#>>'{guards,backlog,tripped}')::boolean, false), 'HELD',
    'the backlog guard holds ' || coalesce(j#>>'{guards,backlog,count}', '?')
      || ' requests back (limits.max_backlog_fraction)',
    'dormantctl preview, then dormantctl accept-backlog if they are right'),
   (5, coalesce((j#>>'{guards,stale_activity,tripped}')::boolean, false), 'HELD',
    'the activity feed is stale (newest activity '
      || coalesce(j#>>'{guards,stale_activity,newest_activity}', 'none')
      || '): no request or suspension until it is fresh',
    'check what writes last_activity_at (limits.max_activity_lag)'),
   (6, EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(j->'instances', '[]')) e
               WHERE jsonb_array_length(coalesce(e->'disabled_endpoints', '[]')) > 0
                 AND NOT (e->>'stale')::boolean), 'DEGRADED',
    'an instance stopped using its webhook endpoint (410 Gone): its messages wait',
    'fix the endpoint, then systemctl reload dormantd   (a reload enables it again)'),
   (7, (j->>'undeliverable_requests')::bigint > 0, 'DEGRADED',
    (j->>'undeliverable_requests') || ' pending requests are undeliverable (their message is dead)',
    'dormantctl show ID   (each one''s last error; they are never suspended)'),
   (8, (j#>>'{held_by_feed,suspensions}')::bigint > 0, 'HELD',
    (j#>>'{held_by_feed,suspensions}') || ' suspensions wait for the activity feed to reach their'
      || ' deadlines (newest activity ' || coalesce(to_char((j#>>'{held_by_feed,horizon}')::timestamptz,
         'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'none') || ')',
    'nothing if your activity arrives in batches; else check what writes last_activity_at'),
   (9, j#>>'{last_pass,at}' IS NULL, 'NOT STARTED',
    'no pass has run yet',
    'dormantctl preview, then systemctl start dormantd'),
   (10, true, 'OK', 'nothing to act on', 'dormantctl preview   (what the next pass will do)'))
   AS v(rank, applies, health, what, run)
 WHERE v.applies
 ORDER BY v.rank LIMIT 1
