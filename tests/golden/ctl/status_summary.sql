-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT CASE WHEN (j->>'paused')::boolean
   THEN 'YES, by ' || coalesce(j->>'paused_by', '?') || ' since ' || to_char((j#>>'{paused_at}')::timestamptz, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
     || coalesce(': ' || (j->>'paused_reason'), '')
   ELSE 'no' || coalesce(', but ' || nullif((SELECT count(*) FROM jsonb_array_elements(j->'instances') e
          WHERE (e->>'paused')::boolean AND NOT (e->>'stale')::boolean), 0)
        || CASE WHEN (SELECT count(*) FROM jsonb_array_elements(j->'instances') e
          WHERE (e->>'paused')::boolean AND NOT (e->>'stale')::boolean) = 1
        THEN ' instance is' ELSE ' instances are' END || ' paused (SIGUSR1)', '') END AS "paused",
 coalesce(to_char((j#>>'{last_pass,at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') || ', ' || (j#>>'{last_pass,duration_ms}') || ' ms, '
   || coalesce(j#>>'{last_pass,outcome}', '?'), 'never') AS "last pass",
 coalesce((SELECT string_agg(key || '=' || value, ' ' ORDER BY key)
             FROM jsonb_each_text(CASE jsonb_typeof(j#>'{last_pass,counts}')
               WHEN 'object' THEN j#>'{last_pass,counts}' END)), '-') AS "last pass did",
 CASE WHEN j#>>'{lease,holder}' IS NULL THEN '-'
   WHEN (j#>>'{lease,expired}')::boolean THEN 'none (the lease of ' || coalesce(j#>>'{lease,host}', '?')
     || ':' || coalesce(j#>>'{lease,pid}', '?') || ' expired at '
     || to_char((j#>>'{lease,expires_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') || ')'
   ELSE coalesce(j#>>'{lease,host}', '?') || ':' || coalesce(j#>>'{lease,pid}', '?')
     || ' (instance ' || (j#>>'{lease,holder}') || ', epoch ' || (j#>>'{lease,epoch}')
     || ', lease until ' || to_char((j#>>'{lease,expires_at}')::timestamptz, 'HH24:MI:SS"Z"') || ')'
   END AS "leader",
 CASE WHEN (j->>'rescan_requested')::boolean THEN 'requested for the next pass'
   ELSE 'no' END AS "rescan",
 coalesce('last round done '
   || to_char((j#>>'{sweep,last_round_done_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"')
   || ' (' || (j#>>'{sweep,last_round_rows}') || ' rows)', 'no round done yet')
   || coalesce('; this round ' || (j#>>'{sweep,rows_this_round}') || ' rows since '
   || to_char((j#>>'{sweep,round_started_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '')
   AS "sweep",
 coalesce((j->>'backlog_accepted') || ' at ' || to_char((j#>>'{backlog_accepted_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '-')
   AS "backlog accepted",
 (j#>>'{outbox,pending}') || ' pending, ' || (j#>>'{outbox,delivered}') || ' delivered, '
   || (j#>>'{outbox,dead}') || ' dead' AS "outbox",
 (j->>'undeliverable_requests') AS "undeliverable",
 CASE WHEN (j#>>'{held_by_feed,suspensions}')::bigint > 0
   THEN (j#>>'{held_by_feed,suspensions}') || ' suspensions wait for the activity feed (newest activity '
     || coalesce(to_char((j#>>'{held_by_feed,horizon}')::timestamptz, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'none')
     || ')'
   ELSE 'none' END AS "held by the feed",
 (j->>'exemptions') AS "exemptions"
 FROM (SELECT $1::jsonb AS j) AS d
