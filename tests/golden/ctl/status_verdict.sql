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
   (2, j#>>'{last_pass,outcome}' LIKE 'failed%', 'FAILING',
    'the last pass failed: ' || (j#>>'{last_pass,outcome}'),
    'journalctl -u dormantd   (the error names what to fix)'),
   (3, coalesce((j#>>'{guards,backlog,tripped}')::boolean, false), 'HELD',
    'the backlog guard holds ' || coalesce(j#>>'{guards,backlog,count}', '?')
      || ' requests back (limits.max_backlog_fraction)',
    'dormantctl preview, then dormantctl accept-backlog if they are right'),
   (4, coalesce((j#>>'{guards,stale_activity,tripped}')::boolean, false), 'HELD',
    'the activity feed is stale (newest activity '
      || coalesce(j#>>'{guards,stale_activity,newest_activity}', 'none')
      || '): no request or suspension until it is fresh',
    'check what writes last_activity_at (limits.max_activity_lag)'),
   (5, (j->>'undeliverable_requests')::bigint > 0, 'DEGRADED',
    (j->>'undeliverable_requests') || ' pending requests are undeliverable (their message is dead)',
    'dormantctl show ID   (each one''s last error; they are never suspended)'),
   (6, j#>>'{last_pass,at}' IS NULL, 'NOT STARTED',
    'no pass has run yet',
    'dormantctl preview, then systemctl start dormantd'),
   (7, true, 'OK', 'nothing to act on', 'dormantctl preview   (what the next pass will do)'))
   AS v(rank, applies, health, what, run)
 WHERE v.applies
 ORDER BY v.rank LIMIT 1
