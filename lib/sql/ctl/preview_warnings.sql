-- What preview warns about before the first message: of the requests it
-- would make ($(ids), their subscriber ids), how many have no usable e-mail
-- address (dead on arrival: NULL, or no single @ between non-blanks); and,
-- when $(eligible_set), how many source rows source.eligible leaves out
-- only because it is NULL (a NULL in its columns), counted up to 100000;
-- and how many suspensions the feed's horizon holds back (promise 1: due
-- but for a deadline the newest activity has not reached), with the horizon.
SELECT (SELECT count(*) FROM {SRC} s
         WHERE s.{ID}::text = ANY ($(ids)::text[])
           AND (s.{EMAIL} IS NULL OR s.{EMAIL}::text !~ '^[^@[:space:]]+@[^@[:space:]]+$'))
         AS dead_on_arrival,
       CASE WHEN $(eligible_set)::boolean THEN
         (SELECT count(*) FROM (SELECT 1 FROM {SRC} s WHERE ({ELIGIBLE}) IS NULL LIMIT 100000) n)
       END AS eligible_null,
       ({HELD_BY_FEED}) AS held_by_feed,
       to_char({NEWEST} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS horizon
