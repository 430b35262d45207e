-- Suspensions held back by the feed's horizon (promise 1): pending accounts
-- past their deadline, with no reminder left to send, whose deadline the
-- newest activity has not reached. Shared by status and preview.
SELECT count(*) AS n FROM {S}.account a
 WHERE a.state = 'pending' AND a.deadline <= now()
   AND a.next_reminder_at IS NULL AND a.reminder_outbox_id IS NULL
   AND a.deadline > coalesce({NEWEST}, '-infinity')
