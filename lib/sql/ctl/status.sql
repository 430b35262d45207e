-- dormantctl status: everything status reports, as one jsonb document; the
-- readable view (status_*.sql) is derived from this same document so the two
-- never disagree.
-- Accounts by state and messages by outcome are sums of the tally that
-- /metrics reads (migration 2), not scans of account and outbox.
WITH s AS (SELECT label AS state, sum(n)::bigint AS n FROM {S}.tally
            WHERE kind = 'account' GROUP BY label),
 o AS (SELECT coalesce(sum(n) FILTER (WHERE label = 'pending'), 0)::bigint AS pending,
              coalesce(sum(n) FILTER (WHERE label = 'delivered'), 0)::bigint AS delivered,
              coalesce(sum(n) FILTER (WHERE label = 'dead'), 0)::bigint AS dead
         FROM {S}.tally WHERE kind = 'outbox'),
 u AS (SELECT count(*) AS n FROM {S}.account a JOIN {S}.outbox ob
         ON ob.id = a.request_outbox_id
        WHERE a.state = 'pending' AND ob.dead_at IS NOT NULL AND ob.delivered_at IS NULL),
 x AS (SELECT count(*) AS n FROM {S}.exemption WHERE until IS NULL OR until > now()),
 -- Suspensions due but for the feed's horizon (promise 1), and the horizon.
 f AS (SELECT {NEWEST} AS horizon),
 h AS ({HELD_BY_FEED}),
 -- The instances as they last reported (lib/lease.h), and the lease.
 l AS (SELECT l.*, l.expires_at <= now() AS expired, i.host, i.pid
         FROM {S}.lease l LEFT JOIN {S}.instance i ON i.id = l.holder),
 i AS (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'host', i.host, 'pid', i.pid,
          'version', i.version, 'started_at', i.started_at, 'last_seen_at', i.last_seen_at,
          'leader', i.id = l.holder AND NOT l.expired, 'paused', i.paused,
          'paused_at', i.paused_at, 'disabled_endpoints', to_jsonb(i.disabled_endpoints),
          'dry_run', i.dry_run,
          -- a leader in a long pass reports less often, but renews its lease
          'stale', i.stale_at < now() AND NOT (i.id = l.holder AND NOT l.expired))
          ORDER BY i.started_at, i.id), '[]') AS a
         FROM {S}.instance i, l)
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
   FROM {S}.control c, {S}.meta m, o, u, x, f, h, l, i
