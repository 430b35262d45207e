-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = min_age
-- $4 = lag
-- $5 = active
-- $6 = write
WITH ctl AS (SELECT * FROM "Dm_x".control),
rs AS (UPDATE "Dm_x".control SET rescan = false, inactive_mark = NULL, inactive_mark_id = NULL,
              created_mark = NULL, created_mark_id = NULL
        WHERE rescan AND $6::boolean RETURNING 1),
newest AS (SELECT (SELECT (max(s."last_activity_at")) FROM "public"."subscribers" s WHERE s."last_activity_at" <= (now())) AS ts),
backlog AS (SELECT (0 + (SELECT EXISTS (WITH raw AS (SELECT a.subscriber_id AS id, s."email"::text AS email,
               (s."last_activity_at") AS la, (s."created_at") AS created,
               s."locale"::text AS locale,
               coalesce(s."billing_status" = $5, false) AS billing_ok,
               coalesce(((s.plan <> 'staff')), false) AS elig,
               CASE WHEN s."last_activity_at" IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
               a.recheck_at AS ord
          FROM "Dm_x".account a LEFT JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
         WHERE a.state = 'active' AND a.recheck_at <= now()
         ORDER BY a.recheck_at, a.subscriber_id ),
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
          FROM cand c)
 SELECT 1 FROM dec d WHERE d.decision = 'request'))::int + (SELECT EXISTS (WITH mk AS (SELECT CASE WHEN rescan THEN NULL ELSE inactive_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE inactive_mark_id END AS id FROM "Dm_x".control),
raw AS (SELECT s."id" AS id, s."email"::text AS email, (s."last_activity_at") AS la,
               (s."created_at") AS created, s."locale"::text AS locale,
               coalesce(s."billing_status" = $5, false) AS billing_ok,
               coalesce(((s.plan <> 'staff')), false) AS elig,
               'inactive'::text AS rule, (s."last_activity_at") AS ord
          FROM "public"."subscribers" s
         WHERE s."last_activity_at" >= (coalesce((SELECT ts FROM mk), '-infinity'))
           AND (s."last_activity_at" > ((SELECT ts FROM mk)) OR s."id" > (SELECT id FROM mk)
                OR (SELECT ts FROM mk) IS NULL)
           AND s."last_activity_at" <= (now() - $1::interval)
         ORDER BY s."last_activity_at", s."id" ),
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
          FROM cand c)
 SELECT 1 FROM dec d WHERE d.decision = 'request'))::int + (SELECT EXISTS (WITH mk AS (SELECT CASE WHEN rescan THEN NULL ELSE created_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE created_mark_id END AS id FROM "Dm_x".control),
raw AS (SELECT s."id" AS id, s."email"::text AS email, (s."last_activity_at") AS la,
               (s."created_at") AS created, s."locale"::text AS locale,
               coalesce(s."billing_status" = $5, false) AS billing_ok,
               coalesce(((s.plan <> 'staff')), false) AS elig,
               'never_active'::text AS rule, (s."created_at") AS ord
          FROM "public"."subscribers" s
         WHERE s."last_activity_at" IS NULL
           AND s."created_at" >= (coalesce((SELECT ts FROM mk), '-infinity'))
           AND (s."created_at" > ((SELECT ts FROM mk)) OR s."id" > (SELECT id FROM mk)
                OR (SELECT ts FROM mk) IS NULL)
           AND s."created_at" <= (now() - $2::interval)
           AND s."created_at" <= (now() - $3::interval)
         ORDER BY s."created_at", s."id" ),
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
          FROM cand c)
 SELECT 1 FROM dec d WHERE d.decision = 'request'))::int) AS n)
 SELECT ctl.paused, n.ts IS NULL OR n.ts < now() - $4::interval AS stale, n.ts AS newest_activity,
        (SELECT count(*) FROM "Dm_x".event
          WHERE kind = 'requested' AND at > now() - interval '24 hours') AS requested_24h,
        b.n AS backlog, ctl.backlog_accepted,
        CASE WHEN (ctl.guards #>> '{backlog,eligible_at}')::timestamptz
                  > now() - interval '1 hour'
             THEN (ctl.guards #>> '{backlog,eligible}')::bigint END AS eligible_cached,
        (SELECT count(*) FROM rs) AS rescanned,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark_id END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark END::text,
        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark_id END::text,
        ctl.activity_mark::text
   FROM ctl, newest n, backlog b
