-- GET /metrics: accounts by state, messages by outcome, the pause flag, as
-- (kind, label, count) rows.
SELECT 'account', state, count(*) FROM {S}.account GROUP BY state
 UNION ALL SELECT 'outbox', CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
 WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END, count(*)
 FROM {S}.outbox GROUP BY 2
 UNION ALL SELECT 'paused', CASE WHEN paused THEN '1' ELSE '0' END, 1
 FROM {S}.control
