-- The instances, from the status document: who leads, who stands by, who
-- is paused by SIGUSR1 and since when, who stopped reporting (stale).
SELECT e->>'id' AS instance, (e->>'host') || ':' || (e->>'pid') AS process,
       e->>'version' AS version,
       CASE WHEN (e->>'leader')::boolean THEN 'leader' WHEN (e->>'dry_run')::boolean THEN 'dry run'
            ELSE 'standby' END AS role,
       CASE WHEN (e->>'paused')::boolean THEN 'SIGUSR1 since '
              || to_char((e->>'paused_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"')
            ELSE '-' END AS paused,
       to_char((e->>'last_seen_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS last_seen,
       CASE WHEN (e->>'stale')::boolean THEN 'STALE' ELSE 'live' END AS state,
       coalesce(nullif(array_to_string(ARRAY(SELECT jsonb_array_elements_text(
         e->'disabled_endpoints')), ' '), ''), '-') AS disabled
  FROM (SELECT $(doc)::jsonb AS j) AS d, jsonb_array_elements(d.j->'instances') e
