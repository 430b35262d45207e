-- Pending subscribers about to be reminded or suspended who have left: the
-- row was deleted, billing left the active value, source.eligible no longer
-- holds, or an exemption came into force (account_remind and
-- account_pending_deadline serve it; the sweep finds the others, whose
-- requests are not delivered yet, within a period).
WITH w AS (SELECT * FROM (
  SELECT a.subscriber_id AS id, a.state AS was,
         CASE WHEN s.{ID} IS NULL THEN 'deleted'
              WHEN NOT coalesce(s.{BILLING} = $(active), false) THEN 'billing'
              WHEN NOT coalesce({ELIGIBLE}, false) THEN 'ineligible'
              WHEN EXISTS (SELECT 1 FROM {S}.exemption e
                            WHERE e.subscriber_id = a.subscriber_id
                              AND (e.until IS NULL OR e.until > now())) THEN 'exempt'
         END AS cause
    FROM {S}.account a LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id
   WHERE a.state = 'pending' AND (a.next_reminder_at <= now() OR a.deadline <= now())) x
  WHERE x.cause IS NOT NULL
  ORDER BY x.id {LIMIT})
