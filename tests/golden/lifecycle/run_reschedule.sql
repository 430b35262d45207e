-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = inactive
-- $2 = never
-- $3 = limit
WITH acc AS (UPDATE "Dm_x".account a
   SET recheck_at = a.confirmed_at + CASE WHEN a.rule = 'never_active'
                                          THEN coalesce($2::interval, $1::interval)
                                          ELSE $1::interval END
 WHERE a.subscriber_id IN (SELECT subscriber_id FROM "Dm_x".account
                            WHERE state = 'active' AND confirmed_at IS NOT NULL
                              AND recheck_at IS NULL LIMIT $3::integer)
   AND a.state = 'active' AND a.recheck_at IS NULL AND a.confirmed_at IS NOT NULL
 RETURNING 1)
 SELECT 0::bigint AS moved, (SELECT count(*) FROM acc) < $3::integer AS done, 0 AS notified
