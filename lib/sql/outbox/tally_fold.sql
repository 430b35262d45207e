-- Folds the count deltas into one row per state (see migration 2), so that
-- a scrape sums a table as small as one poll interval's changes. Rows
-- appended meanwhile are not seen and stay for the next fold; two folds at
-- once each take the rows the other did not.
WITH gone AS (DELETE FROM {S}.tally RETURNING kind, label, n)
INSERT INTO {S}.tally
SELECT kind, label, sum(n) FROM gone GROUP BY kind, label HAVING sum(n) <> 0
