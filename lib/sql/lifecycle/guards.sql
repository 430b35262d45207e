-- Guard readings at the start of a pass, the rescan reset when $(write),
-- and the watermarks the request and resume steps start from. {BACKLOG}: backlog.sql. requested_24h is always counted (a
-- partial index, event_requested_at): status and /healthz tell it true.
WITH ctl AS (SELECT * FROM {S}.control),
rs AS (UPDATE {S}.control SET rescan = false, inactive_mark = NULL, inactive_mark_id = NULL,
              created_mark = NULL, created_mark_id = NULL
        WHERE rescan AND $(write)::boolean RETURNING 1),
newest AS (SELECT {NEWEST} AS ts),
backlog AS (SELECT {BACKLOG} AS n)
 SELECT ctl.paused, n.ts IS NULL OR n.ts < now() - $(lag)::interval AS stale, n.ts AS newest_activity,
        (SELECT count(*) FROM {S}.event
          WHERE kind = 'requested' AND at > now() - interval '24 hours') AS requested_24h,
        b.n AS backlog, ctl.backlog_accepted,
        CASE WHEN (ctl.guards #>> '{backlog,eligible_at}')::timestamptz
                  > now() - interval '1 hour'
             THEN (ctl.guards #>> '{backlog,eligible}')::bigint END AS eligible_cached,
        (SELECT count(*) FROM rs) AS rescanned,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark_id END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark_id END::text,
        ctl.activity_mark::text
   FROM ctl, newest n, backlog b
