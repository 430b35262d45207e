-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = key
-- $2 = confirm
SELECT a.subscriber_id::text, to_char(d.at, 'YYYY-MM-DD'), to_char(d.at, 'HH24:MI:SS'),
       s."locale"::text FROM "Dm_x".token t
  JOIN "Dm_x".account a ON a.subscriber_id = t.subscriber_id AND a.cycle = t.cycle
   AND a.state = 'pending'
 CROSS JOIN LATERAL (SELECT coalesce(a.deadline, "Dm_x".deadline_end(now() + $2::interval,
                                                             $2::interval))
                       AT TIME ZONE 'UTC' AS at) d
  LEFT JOIN "public"."subscribers" s ON s."id" = a.subscriber_id
 WHERE t.hash = decode($1, 'hex')
