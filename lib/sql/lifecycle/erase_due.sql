-- Suspended long enough, and billing still holds the suspended value: a
-- customer the application charges again is never erased, whatever
-- reactivation has paged through. The writing batch locks the source rows
-- ({ROW_LOCK}: erase_lock.sql), so billing cannot change between this check and
-- the commit; a row the application is changing right now waits for a
-- later pass. Preview and count take no lock.
WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM {S}.account a
               JOIN {SRC} s ON s.{ID} = a.subscriber_id
              WHERE a.state = 'suspended' AND a.suspended_at <= now() - $(erase)::interval
                AND s.{BILLING} = $(suspended)
              ORDER BY a.suspended_at, a.subscriber_id {LIMIT} {ROW_LOCK})
