-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = min_age
-- $4 = active
WITH raw AS (SELECT a.subscriber_id AS id, s."email"::text AS email,
               (s."last_activity_at") AS la, (s."created_at") AS created,
               s."locale"::text AS locale,
               coalesce(s."billing_status" = $4, false) AS billing_ok,
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
 SELECT count(*) FROM dec d WHERE d.decision = 'request'
