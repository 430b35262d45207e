-- The sweep: one page of the source in primary key order after the cursor
-- kept in the control row. Its size is what the sweep owes ({QUOTA}:
-- sweep_owed.sql, capped at a batch by sweep_quota_batch.sql when it
-- writes): the rows (the larger of the planner's estimate and the last
-- complete round) times the time since the sweep was last paid up, over
-- sweep_period; at least 100 rows, at most one period's worth. The page
-- goes through the request steps' own decision ({DECIDE}); then {TAIL}
-- (sweep_write.sql + withdraw_write.sql + sweep_done.sql, sweep_preview.sql
-- or sweep_count.sql). The source's oid comes from a row of it (tableoid),
-- so no name is spelled twice; a row of a partitioned table names its
-- partition, so the estimate is the sum over the leaves of its root (one
-- partition's alone would make the first round as many periods long as
-- there are partitions).
WITH ctl AS (SELECT * FROM {S}.control),
src AS (SELECT coalesce(pg_partition_root(t.oid), t.oid) AS oid
          FROM (SELECT (SELECT s.tableoid FROM {SRC} s LIMIT 1) AS oid) t),
est AS (SELECT greatest(coalesce((SELECT sum(greatest(c.reltuples, 0))
                                    FROM pg_partition_tree((SELECT oid FROM src)) p
                                    JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf),
                                 (SELECT c.reltuples FROM pg_class c
                                   WHERE c.oid = (SELECT oid FROM src))),
                        ctl.sweep_last_rows, ctl.sweep_rows, 1)::float8 AS n FROM ctl),
quota AS (SELECT ({QUOTA})::integer AS k FROM ctl, est),
page AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, {LA_TS} AS la,
                {CR_TS} AS created, {LOCALE} AS locale,
                coalesce(s.{BILLING} = $(active), false) AS billing_ok,
                coalesce({ELIGIBLE}, false) AS elig
           FROM {SRC} s
          WHERE s.{ID} >= coalesce((SELECT sweep_cursor FROM ctl),
                                   (SELECT s2.{ID} FROM {SRC} s2 ORDER BY 1 LIMIT 1))
            AND s.{ID} IS DISTINCT FROM (SELECT sweep_cursor FROM ctl)
          ORDER BY s.{ID} LIMIT (SELECT k FROM quota)),
-- The page's last key, or NULL when it reached the end of the table.
hi AS (SELECT CASE WHEN (SELECT count(*) FROM page) < (SELECT k FROM quota) THEN NULL
                   ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END AS id),
raw AS (SELECT p.*, CASE WHEN p.la IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
               coalesce(p.la, p.created) AS ord FROM page p),
{DECIDE},
-- Due, and not beyond a watermark (the watermark steps will see those).
found AS (SELECT d.* FROM dec d, ctl
           WHERE d.decision = 'request' AND (d.astate IS NULL OR d.astate = 'active')
             AND NOT coalesce(ctl.rescan OR CASE d.rule
                   WHEN 'inactive' THEN d.la >= coalesce(ctl.inactive_mark, '-infinity')
                     AND (d.la > ctl.inactive_mark OR d.id > ctl.inactive_mark_id
                          OR ctl.inactive_mark IS NULL)
                   ELSE d.created >= coalesce(ctl.created_mark, '-infinity')
                     AND (d.created > ctl.created_mark OR d.id > ctl.created_mark_id
                          OR ctl.created_mark IS NULL) END, false))
{TAIL}
