-- {TARGET} of an answer on the page: the subscriber whose live token hashes
-- to $(key) (lower-case hex SHA-256), for the token's cycle, if pending.
SELECT a.subscriber_id, a.cycle FROM {S}.account a
 JOIN {S}.token t ON t.subscriber_id = a.subscriber_id AND t.cycle = a.cycle
 WHERE t.hash = decode($(key), 'hex') AND a.state = 'pending'
