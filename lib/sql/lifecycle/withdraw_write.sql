-- Leaves the lifecycle: the account rests as active (or erased, when its
-- row is gone), links die, undelivered requests and reminders are retired,
-- and a deleted row's personal data goes as at erasure (payloads, event
-- details, the exemption). Follows a CTE w(id, was, cause); was is the
-- state the account is moved from. Shared by the withdraw step and the sweep.
,
acc AS (UPDATE {S}.account a
           SET state = CASE WHEN w.cause = 'deleted' THEN 'erased' ELSE 'active' END,
               next_reminder_at = NULL, recheck_at = NULL, updated_at = now()
          FROM w WHERE a.subscriber_id = w.id AND a.state = w.was
        RETURNING a.subscriber_id, a.cycle, w.cause, w.was),
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
obx AS (UPDATE {S}.outbox o
           SET payload = CASE WHEN acc.cause = 'deleted' THEN NULL ELSE o.payload END,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN 'withdrawn: ' || acc.cause ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND ((o.delivered_at IS NULL AND o.dead_at IS NULL
                 AND (o.type LIKE 'confirmation.%' OR acc.cause = 'deleted'))
                OR (acc.cause = 'deleted' AND o.payload IS NOT NULL))),
evx AS (UPDATE {S}.event e SET detail = '{}' FROM acc
         WHERE acc.cause = 'deleted' AND e.subscriber_id = acc.subscriber_id
           AND e.detail <> '{}'),
exm AS (DELETE FROM {S}.exemption x USING acc
         WHERE acc.cause = 'deleted' AND x.subscriber_id = acc.subscriber_id),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, CASE WHEN acc.was = 'pending' THEN 'withdrawn'
                                      ELSE 'erased' END,
              acc.cycle, 'daemon', jsonb_build_object('cause', acc.cause) FROM acc)
