-- Bookkeeping, not a transition: confirmed subscribers get the time to
-- look at them again.
WITH acc AS (UPDATE {S}.account a
   SET recheck_at = a.confirmed_at + CASE WHEN a.rule = 'never_active'
                                          THEN coalesce($(never)::interval, $(inactive)::interval)
                                          ELSE $(inactive)::interval END
 WHERE a.subscriber_id IN (SELECT subscriber_id FROM {S}.account
                            WHERE state = 'active' AND confirmed_at IS NOT NULL
                              AND recheck_at IS NULL LIMIT $(limit)::integer)
   AND a.state = 'active' AND a.recheck_at IS NULL AND a.confirmed_at IS NOT NULL
 RETURNING 1)
 SELECT 0::bigint AS moved, (SELECT count(*) FROM acc) < $(limit)::integer AS done, 0 AS notified
