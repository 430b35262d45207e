-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = min_age
-- $4 = active
-- $5 = period
-- $6 = poll
WITH ctl AS (SELECT * FROM "Dm_x".control),
src AS (SELECT coalesce(pg_partition_root(t.oid), t.oid) AS oid
          FROM (SELECT (SELECT s.tableoid FROM "public"."subscribers" s LIMIT 1) AS oid) t),
est AS (SELECT greatest(coalesce((SELECT sum(greatest(c.reltuples, 0))
                                    FROM pg_partition_tree((SELECT oid FROM src)) p
                                    JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf),
                                 (SELECT c.reltuples FROM pg_class c
                                   WHERE c.oid = (SELECT oid FROM src))),
                        ctl.sweep_last_rows, ctl.sweep_rows, 1)::float8 AS n FROM ctl),
quota AS (SELECT (greatest(100, ceil(est.n * extract(epoch FROM
  least(now() - coalesce(ctl.sweep_paid_until, now() - $6::interval), $5::interval))
  / extract(epoch FROM $5::interval))))::integer AS k FROM ctl, est),
page AS (SELECT s."id" AS id, s."email"::text AS email, (s."last_activity_at") AS la,
                (s."created_at") AS created, s."locale"::text AS locale,
                coalesce(s."billing_status" = $4, false) AS billing_ok,
                coalesce((s.plan <> 'staff'), false) AS elig
           FROM "public"."subscribers" s
          WHERE s."id" >= coalesce((SELECT sweep_cursor FROM ctl),
                                   (SELECT s2."id" FROM "public"."subscribers" s2 ORDER BY 1 LIMIT 1))
            AND s."id" IS DISTINCT FROM (SELECT sweep_cursor FROM ctl)
          ORDER BY s."id" LIMIT (SELECT k FROM quota)),

hi AS (SELECT CASE WHEN (SELECT count(*) FROM page) < (SELECT k FROM quota) THEN NULL
                   ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END AS id),
raw AS (SELECT p.*, CASE WHEN p.la IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
               coalesce(p.la, p.created) AS ord FROM page p),
cand AS (SELECT r.*, a.state AS astate, a.confirmed_at,
                e.subscriber_id IS NOT NULL AND (e.until IS NULL OR e.until > now()) AS exempt,
                CASE WHEN e.until > now() THEN e.until END AS exempt_until,
                CASE r.rule WHEN 'inactive' THEN $1::interval ELSE $2::interval END AS after
           FROM raw r
           LEFT JOIN LATERAL (SELECT * FROM "Dm_x".account a
                               WHERE a.subscriber_id = r.id OFFSET 0) a ON true
           LEFT JOIN LATERAL (SELECT * FROM "Dm_x".exemption e
                               WHERE e.subscriber_id = r.id OFFSET 0) e ON true),
dec AS (SELECT c.*,
               CASE WHEN NOT c.billing_ok OR NOT c.elig OR c.after IS NULL THEN 'skip'
                    WHEN c.astate IS NOT NULL AND c.astate <> 'active' THEN 'skip'
                    WHEN coalesce(c.la, c.created) > now() - c.after THEN 'skip'
                    WHEN c.exempt AND c.exempt_until IS NULL THEN 'skip'
                    WHEN c.exempt OR c.created > now() - $3::interval
                         OR c.confirmed_at > now() - c.after THEN 'later'
                    ELSE 'request' END AS decision,
               greatest(c.exempt_until, c.created + $3::interval, c.confirmed_at + c.after)
                 AS later_at
          FROM cand c),

found AS (SELECT d.* FROM dec d, ctl
           WHERE d.decision = 'request' AND (d.astate IS NULL OR d.astate = 'active')
             AND NOT coalesce(ctl.rescan OR CASE d.rule
                   WHEN 'inactive' THEN d.la >= coalesce(ctl.inactive_mark, '-infinity')
                     AND (d.la > ctl.inactive_mark OR d.id > ctl.inactive_mark_id
                          OR ctl.inactive_mark IS NULL)
                   ELSE d.created >= coalesce(ctl.created_mark, '-infinity')
                     AND (d.created > ctl.created_mark OR d.id > ctl.created_mark_id
                          OR ctl.created_mark IS NULL) END, false))
SELECT count(*) FROM found
