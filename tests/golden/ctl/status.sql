-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
WITH s AS (SELECT label AS state, sum(n)::bigint AS n FROM "Dm_x".tally
            WHERE kind = 'account' GROUP BY label),
 o AS (SELECT coalesce(sum(n) FILTER (WHERE label = 'pending'), 0)::bigint AS pending,
              coalesce(sum(n) FILTER (WHERE label = 'delivered'), 0)::bigint AS delivered,
              coalesce(sum(n) FILTER (WHERE label = 'dead'), 0)::bigint AS dead
         FROM "Dm_x".tally WHERE kind = 'outbox'),
 u AS (SELECT count(*) AS n FROM "Dm_x".account a JOIN "Dm_x".outbox ob
         ON ob.id = a.request_outbox_id
        WHERE a.state = 'pending' AND ob.dead_at IS NOT NULL AND ob.delivered_at IS NULL),
 x AS (SELECT count(*) AS n FROM "Dm_x".exemption WHERE until IS NULL OR until > now()),

 f AS (SELECT (SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())) AS horizon),
 h AS (SELECT count(*) AS n FROM "Dm_x".account a
 WHERE a.state = 'pending' AND a.deadline <= now()
   AND a.next_reminder_at IS NULL AND a.reminder_outbox_id IS NULL
   AND a.deadline > coalesce((SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())), '-infinity')),

 l AS (SELECT l.*, l.expires_at <= now() AS expired, i.host, i.pid
         FROM "Dm_x".lease l LEFT JOIN "Dm_x".instance i ON i.id = l.holder),
 i AS (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'host', i.host, 'pid', i.pid,
          'version', i.version, 'started_at', i.started_at, 'last_seen_at', i.last_seen_at,
          'leader', i.id = l.holder AND NOT l.expired, 'paused', i.paused,
          'paused_at', i.paused_at, 'disabled_endpoints', to_jsonb(i.disabled_endpoints),
          'dry_run', i.dry_run,

          'stale', i.stale_at < now() AND NOT (i.id = l.holder AND NOT l.expired))
          ORDER BY i.started_at, i.id), '[]') AS a
         FROM "Dm_x".instance i, l)
 SELECT jsonb_build_object(
   'schema_version', m.version,
   'accounts', jsonb_build_object(
      'active', coalesce((SELECT n FROM s WHERE state = 'active'), 0),
      'pending', coalesce((SELECT n FROM s WHERE state = 'pending'), 0),
      'suspended', coalesce((SELECT n FROM s WHERE state = 'suspended'), 0),
      'erased', coalesce((SELECT n FROM s WHERE state = 'erased'), 0)),
   'undeliverable_requests', u.n,
   'exemptions', x.n,
   'held_by_feed', jsonb_build_object('suspensions', h.n, 'horizon', f.horizon),
   'outbox', jsonb_build_object('pending', o.pending, 'delivered', o.delivered,
                                'dead', o.dead),
   'paused', c.paused, 'paused_by', c.paused_by, 'paused_at', c.paused_at,
   'paused_reason', CASE WHEN c.paused THEN c.paused_reason END,
   'last_pass', jsonb_build_object('at', c.last_pass_at, 'duration_ms', c.last_pass_ms,
                                   'outcome', c.last_pass_outcome, 'counts', c.last_pass),
   'guards', c.guards,
   'backlog_accepted', c.backlog_accepted, 'backlog_accepted_at', c.backlog_accepted_at,
   'rescan_requested', c.rescan,
   'sweep', jsonb_build_object('last_round_done_at', c.sweep_done_at,
                               'last_round_rows', c.sweep_last_rows,
                               'round_started_at', c.sweep_started_at,
                               'rows_this_round', c.sweep_rows),
   'leader', c.leader,
   'lease', jsonb_build_object('holder', l.holder, 'host', l.host, 'pid', l.pid,
                               'epoch', l.epoch, 'acquired_at', l.acquired_at,
                               'expires_at', l.expires_at, 'expired', l.expired),
   'instances', i.a)
   FROM "Dm_x".control c, "Dm_x".meta m, o, u, x, f, h, l, i
