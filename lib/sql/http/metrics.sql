-- GET /metrics: accounts by state, messages by outcome, the pause flag, as
-- (kind, label, count) rows. The counts are sums of the small tally table
-- (migration 2), never a scan of account or outbox: a scrape costs the
-- same at any size and never keeps the page waiting.
SELECT kind, label, sum(n) FROM {S}.tally GROUP BY kind, label
 UNION ALL SELECT 'paused', CASE WHEN paused THEN '1' ELSE '0' END, 1
 FROM {S}.control
