WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM {S}.account a
              WHERE a.state = 'suspended' AND a.suspended_at <= now() - $(erase)::interval
              ORDER BY a.suspended_at, a.subscriber_id {LIMIT})
