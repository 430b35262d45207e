-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = min_age
-- $4 = active
-- $5 = period
-- $6 = poll
-- $7 = limit
WITH ctl AS (SELECT * FROM "Dm_x".control),
src AS (SELECT coalesce(pg_partition_root(t.oid), t.oid) AS oid
          FROM (SELECT (SELECT s.tableoid FROM "public"."subscribers" s LIMIT 1) AS oid) t),
est AS (SELECT greatest(coalesce((SELECT sum(greatest(c.reltuples, 0))
                                    FROM pg_partition_tree((SELECT oid FROM src)) p
                                    JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf),
                                 (SELECT c.reltuples FROM pg_class c
                                   WHERE c.oid = (SELECT oid FROM src))),
                        ctl.sweep_last_rows, ctl.sweep_rows, 1)::float8 AS n FROM ctl),
quota AS (SELECT (least($7::integer, greatest(100, ceil(est.n * extract(epoch FROM
  least(now() - coalesce(ctl.sweep_paid_until, now() - $6::interval), $5::interval))
  / extract(epoch FROM $5::interval)))))::integer AS k FROM ctl, est),
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
,
mark AS (INSERT INTO "Dm_x".account AS a (subscriber_id, recheck_at)
         SELECT f.id, least(now(), f.ord + f.after) FROM found f
         ON CONFLICT (subscriber_id) DO UPDATE
            SET recheck_at = least(a.recheck_at, EXCLUDED.recheck_at), updated_at = now()
          WHERE a.state = 'active'
            AND (a.recheck_at IS NULL OR a.recheck_at > EXCLUDED.recheck_at)
         RETURNING 1),
back AS (UPDATE "Dm_x".account a SET state = 'active', suspended_at = NULL,
                confirmed_at = now(), recheck_at = NULL, updated_at = now()
           FROM dec d WHERE d.astate = 'erased' AND d.billing_ok
            AND a.subscriber_id = d.id AND a.state = 'erased'
            AND NOT EXISTS (SELECT 1 FROM "Dm_x".event f WHERE f.subscriber_id = a.subscriber_id
                              AND f.kind = 'forgotten')
         RETURNING a.subscriber_id, a.cycle, d.email, d.locale),
bev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
        SELECT back.subscriber_id, 'reactivated', back.cycle, 'daemon',
               jsonb_build_object('cause', 'billing active again after erasure')
          FROM back),
bmsg AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
         SELECT 'subscription.reactivated', back.subscriber_id, back.cycle,
                jsonb_build_object('type', 'subscription.reactivated',
                  'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', jsonb_build_object('subscriber_id', back.subscriber_id::text,
                    'email', back.email, 'locale', back.locale))
           FROM back RETURNING 1),
w AS (SELECT d.id, d.astate AS was,
             CASE WHEN NOT d.billing_ok THEN 'billing'
                  WHEN NOT d.elig THEN 'ineligible' ELSE 'exempt' END AS cause
        FROM dec d
       WHERE d.astate = 'pending' AND (NOT d.billing_ok OR NOT d.elig OR d.exempt)
      UNION ALL
      SELECT a.subscriber_id, a.state, 'deleted' FROM "Dm_x".account a
       WHERE a.subscriber_id >= coalesce((SELECT sweep_cursor FROM ctl),
                                 (SELECT subscriber_id FROM "Dm_x".account ORDER BY 1 LIMIT 1))
         AND a.subscriber_id <= coalesce((SELECT id FROM hi),
                                 (SELECT subscriber_id FROM "Dm_x".account ORDER BY 1 DESC LIMIT 1))
         AND a.subscriber_id IS DISTINCT FROM (SELECT sweep_cursor FROM ctl)
         AND a.state <> 'erased'
         AND NOT EXISTS (SELECT 1 FROM "public"."subscribers" s WHERE s."id" = a.subscriber_id OFFSET 0))
,
acc AS (UPDATE "Dm_x".account a
           SET state = CASE WHEN w.cause = 'deleted' THEN 'erased' ELSE 'active' END,
               next_reminder_at = NULL, recheck_at = NULL, updated_at = now()
          FROM w WHERE a.subscriber_id = w.id AND a.state = w.was
        RETURNING a.subscriber_id, a.cycle, w.cause, w.was),
tok AS (DELETE FROM "Dm_x".token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
obx AS (UPDATE "Dm_x".outbox o
           SET payload = CASE WHEN acc.cause = 'deleted' THEN NULL ELSE o.payload END,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN 'withdrawn: ' || acc.cause ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND ((o.delivered_at IS NULL AND o.dead_at IS NULL
                 AND (o.type LIKE 'confirmation.%' OR acc.cause = 'deleted'))
                OR (acc.cause = 'deleted' AND o.payload IS NOT NULL))),
evx AS (UPDATE "Dm_x".event e SET detail = '{}' FROM acc
         WHERE acc.cause = 'deleted' AND e.subscriber_id = acc.subscriber_id
           AND e.detail <> '{}'),
exm AS (DELETE FROM "Dm_x".exemption x USING acc
         WHERE acc.cause = 'deleted' AND x.subscriber_id = acc.subscriber_id),
ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, CASE WHEN acc.was = 'pending' THEN 'withdrawn'
                                      ELSE 'erased' END,
              acc.cycle, 'daemon', jsonb_build_object('cause', acc.cause) FROM acc)
,
cur AS (UPDATE "Dm_x".control c
           SET sweep_cursor = (SELECT id FROM hi),
               sweep_paid_until = least(now(),
                 greatest(coalesce(c.sweep_paid_until, now() - $6::interval),
                          now() - $5::interval)
                 + $5::interval * ((SELECT count(*) FROM page) / (SELECT n FROM est))),
               sweep_rows = CASE WHEN (SELECT id FROM hi) IS NULL THEN 0
                                 ELSE c.sweep_rows + (SELECT count(*) FROM page) END,
               sweep_last_rows = CASE WHEN (SELECT id FROM hi) IS NULL
                                      THEN c.sweep_rows + (SELECT count(*) FROM page)
                                      ELSE c.sweep_last_rows END,
               sweep_started_at = CASE WHEN c.sweep_cursor IS NULL THEN now()
                                       ELSE c.sweep_started_at END,
               sweep_done_at = CASE WHEN (SELECT id FROM hi) IS NULL THEN now()
                                    ELSE c.sweep_done_at END)
SELECT (SELECT count(*) FROM acc) AS moved,
       (SELECT k FROM quota) < $7::integer OR (SELECT id FROM hi) IS NULL AS done,
       (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM bmsg LIMIT 1) x)
         AS notified,
       (SELECT count(*) FROM page) AS examined, (SELECT count(*) FROM mark) AS found,
       (SELECT count(*) FROM back) AS reactivated
