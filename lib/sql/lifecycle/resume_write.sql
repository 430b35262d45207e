,
acc AS (UPDATE {S}.account a SET state = 'active', next_reminder_at = NULL,
                                 updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'
        RETURNING a.subscriber_id, a.cycle),
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
obx AS (UPDATE {S}.outbox o SET dead_at = now(),
               last_error = 'superseded: the subscriber was active again'
          FROM acc WHERE o.subscriber_id = acc.subscriber_id AND o.delivered_at IS NULL
           AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%'),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, 'resumed', acc.cycle, 'subscriber',
              jsonb_build_object('last_activity_at', due.la,
                                 'requested_at', due.requested_at)
         FROM acc JOIN due ON due.id = acc.subscriber_id),
mark AS (UPDATE {S}.control
            SET activity_mark = {NEWEST}
          WHERE (SELECT count(*) FROM due) < $(limit)::integer)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $(limit)::integer AS done,
        0 AS notified
