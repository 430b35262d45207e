-- {TARGET} of dormantctl confirm: the subscriber $(key), if pending.
SELECT a.subscriber_id, a.cycle FROM {S}.account a
 WHERE a.subscriber_id = $(key) AND a.state = 'pending'
