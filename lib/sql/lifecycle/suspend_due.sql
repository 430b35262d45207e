-- Delivered requests past their deadline whose every reminder went out and
-- was delivered (suspension waits while one is due or undelivered: promise
-- 3), once the activity feed has caught up with the deadline (promise 1:
-- the newest activity, ignoring the future, is at or after it).
-- {DUE}: suspend_locked.sql in the writing batch, suspend_unlocked.sql in
-- preview and count.
WITH cand AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at
                FROM {S}.account a
               WHERE a.state = 'pending' AND a.deadline <= now()
                 AND a.delivered_at IS NOT NULL AND a.next_reminder_at IS NULL
                 AND a.reminder_outbox_id IS NULL AND a.deadline <= {NEWEST}
               ORDER BY a.deadline, a.subscriber_id {LIMIT}),
{DUE}
