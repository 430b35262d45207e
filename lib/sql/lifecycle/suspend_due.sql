-- Delivered requests past their deadline with no activity since.
WITH due AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at
               FROM {S}.account a LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id
              WHERE a.state = 'pending' AND a.deadline <= now()
                AND a.delivered_at IS NOT NULL
                AND NOT coalesce({LA_TS} > a.requested_at, false)
              ORDER BY a.deadline, a.subscriber_id {LIMIT})
