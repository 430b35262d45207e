-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
WITH gone AS (DELETE FROM "Dm_x".tally RETURNING kind, label, n)
INSERT INTO "Dm_x".tally
SELECT kind, label, sum(n) FROM gone GROUP BY kind, label HAVING sum(n) <> 0
