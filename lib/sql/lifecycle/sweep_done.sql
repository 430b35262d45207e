-- The cursor moves on, and the time the sweep is paid up to with it; the
-- sweep's result row: moved (withdrawals), done, notified, examined, found
-- (marked for the next pass's recheck step), reactivated (came back).
,
cur AS (UPDATE {S}.control c
           SET sweep_cursor = (SELECT id FROM hi),
               sweep_paid_until = least(now(),
                 greatest(coalesce(c.sweep_paid_until, now() - $(poll)::interval),
                          now() - $(period)::interval)
                 + $(period)::interval * ((SELECT count(*) FROM page) / (SELECT n FROM est))),
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
       (SELECT k FROM quota) < $(limit)::integer OR (SELECT id FROM hi) IS NULL AS done,
       (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM bmsg LIMIT 1) x)
         AS notified,
       (SELECT count(*) FROM page) AS examined, (SELECT count(*) FROM mark) AS found,
       (SELECT count(*) FROM back) AS reactivated
