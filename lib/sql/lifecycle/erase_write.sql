-- {ERASE_SOURCE}: erase_source.sql when policy.erase_columns is set, or nothing.
-- Moves nobody while the cluster-wide pause is set (promise 7: a statement
-- that begins after dormantctl pause committed changes nothing), and says so.
,
acc AS (UPDATE {S}.account a SET state = 'erased', updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'
           AND NOT (SELECT paused FROM {S}.control)
        RETURNING a.subscriber_id, a.cycle),{ERASE_SOURCE}
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
exm AS (DELETE FROM {S}.exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),
obx AS (UPDATE {S}.outbox o SET payload = NULL,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN 'superseded: the subscriber was erased'
                                 ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))),
evx AS (UPDATE {S}.event e SET detail = '{}' FROM acc
         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}'),
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor)
       SELECT acc.subscriber_id, 'erased', acc.cycle, 'daemon' FROM acc),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,
               jsonb_build_object('type', 'subscriber.erased',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', acc.subscriber_id::text))
          FROM acc RETURNING 1)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM {S}.control) AS paused
