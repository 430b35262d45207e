-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
SELECT kind, label, sum(n) FROM "Dm_x".tally GROUP BY kind, label
 UNION ALL SELECT 'paused', CASE WHEN paused THEN '1' ELSE '0' END, 1
 FROM "Dm_x".control
