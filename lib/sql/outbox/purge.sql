-- Deletes up to $(limit) delivered or dead messages that finished more than
-- $(keep) ago, oldest first (from the head of outbox_finished, so a batch
-- costs the same at any size of the table). Rows another transaction holds
-- are skipped, not waited for; the current request of a pending subscriber
-- stays (its delivery started the grace period the page refers to). The
-- events stay too: a delivered event is the evidence. The ids go to the
-- DELETE as an array, so that it finds them by primary key (a join with
-- the CTE would be planned as a scan of the whole outbox). Returns how many
-- rows it deleted.
WITH old AS (
  SELECT o.id FROM {S}.outbox o
   WHERE (o.delivered_at IS NOT NULL OR o.dead_at IS NOT NULL)
     AND COALESCE(o.delivered_at, o.dead_at) < now() - $(keep)::interval
     AND NOT EXISTS (SELECT 1 FROM {S}.account a
                      WHERE a.subscriber_id = o.subscriber_id AND a.request_outbox_id = o.id
                        AND a.state = 'pending')
   ORDER BY COALESCE(o.delivered_at, o.dead_at) LIMIT $(limit)::int
   FOR UPDATE SKIP LOCKED),
 gone AS (DELETE FROM {S}.outbox WHERE id = ANY (ARRAY(SELECT id FROM old)) RETURNING 1)
 SELECT count(*) FROM gone
