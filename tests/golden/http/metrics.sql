-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
SELECT 'account', state, count(*) FROM "Dm_x".account GROUP BY state
 UNION ALL SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
 WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
 FROM "Dm_x".outbox GROUP BY 2
 UNION ALL SELECT 'paused', CASE WHEN paused THEN '1' ELSE '0' END, 1
 FROM "Dm_x".control
