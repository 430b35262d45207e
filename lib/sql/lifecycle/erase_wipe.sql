-- {ERASE_WIPE}: what the erasure step (erase_write.sql) and dormantctl
-- forget (ctl/forget.sql) both wipe of the subscribers in acc
-- (subscriber_id, cycle, and superseded: the last_error of a message that
-- dies undelivered). Tokens and the exemption go; message payloads go (a
-- message not yet delivered is dead, superseded); every event's detail
-- goes (obx and evx return a row for each they wiped); then a
-- subscriber.erased message for the application (msg).
tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),
exm AS (DELETE FROM {S}.exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),
obx AS (UPDATE {S}.outbox o SET payload = NULL,
               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())
                              ELSE o.dead_at END,
               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL
                                 THEN acc.superseded ELSE o.last_error END
          FROM acc WHERE o.subscriber_id = acc.subscriber_id
           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))
        RETURNING 1),
evx AS (UPDATE {S}.event e SET detail = '{}' FROM acc
         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}' RETURNING 1),
msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,
               jsonb_build_object('type', 'subscriber.erased',
                 'timestamp', to_char((now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'data', jsonb_build_object('subscriber_id', acc.subscriber_id::text))
          FROM acc RETURNING 1)
