-- The confirmation page's view of a token: the subscriber, the deadline's
-- date and time in UTC (now plus $(confirm), to the end of its day, while
-- the request is not delivered yet) and the locale. $(key) is the token's
-- hex SHA-256.
SELECT a.subscriber_id::text, to_char(d.at, 'YYYY-MM-DD'), to_char(d.at, 'HH24:MI:SS'),
       {LOCALE} FROM {S}.token t
  JOIN {S}.account a ON a.subscriber_id = t.subscriber_id AND a.cycle = t.cycle
   AND a.state = 'pending'
 CROSS JOIN LATERAL (SELECT coalesce(a.deadline, {S}.deadline_end(now() + $(confirm)::interval,
                                                             $(confirm)::interval))
                       AT TIME ZONE 'UTC' AS at) d
  LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id
 WHERE t.hash = decode($(key), 'hex')
