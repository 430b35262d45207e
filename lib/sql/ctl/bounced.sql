-- "dormantctl bounced ID": the last request or reminder delivered to
-- subscriber $(id) in their pending cycle bounced. {S}.bounced() (the
-- function the application's mailer calls) undoes its delivery. Returns
-- the outbox id and whether this call recorded the bounce; no row when
-- there is no such message. Served by outbox_subscriber.
SELECT o.id::text, {S}.bounced(o.id, NULLIF($(reason)::text, ''))
  FROM {S}.outbox o
  JOIN {S}.account a ON a.subscriber_id = o.subscriber_id AND a.cycle = o.cycle
 WHERE o.subscriber_id = $(id)::{ID_TYPE} AND a.state = 'pending'
   AND o.type IN ('confirmation.requested', 'confirmation.reminder')
   AND o.delivered_at IS NOT NULL
 ORDER BY o.id DESC
 LIMIT 1
