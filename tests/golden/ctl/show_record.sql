-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = doc
SELECT j->>'subscriber_id' AS "subscriber",
 coalesce(j#>>'{account,state}', 'not in the lifecycle (never asked)')
   || CASE WHEN jsonb_typeof(j->'exemption') = 'object'
        AND (j#>>'{exemption,until}' IS NULL
             OR (j#>>'{exemption,until}')::timestamptz > now())
      THEN ', exempt' ELSE '' END AS "state",
 CASE
  WHEN j#>>'{account,state}' = 'suspended' THEN (SELECT CASE e->>'kind'
     WHEN 'declined' THEN 'chose "Pause billing now" on the confirmation page at '
          || to_char((e->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"')
     ELSE 'no answer by the deadline ' || coalesce(to_char((j#>>'{account,deadline}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '?')
          || ' (request delivered '
          || coalesce(to_char((j#>>'{account,delivered_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '?')
          || ', last activity '
          || coalesce(to_char((j#>>'{source,last_activity_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), 'never') || ')' END
     FROM jsonb_array_elements(j->'events') e
    WHERE e->>'kind' IN ('declined', 'suspended')
    ORDER BY (e->>'id')::bigint DESC LIMIT 1)
  WHEN j#>>'{account,state}' = 'pending' AND j#>>'{account,delivered_at}' IS NULL
   AND EXISTS (SELECT 1 FROM jsonb_array_elements(j->'messages') m
                WHERE m->>'id' = j#>>'{account,request_outbox_id}'
                  AND m->>'dead_at' IS NOT NULL)
   THEN 'asked ' || coalesce(to_char((j#>>'{account,requested_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '?')
        || ', but the request could not be delivered: no deadline runs and they will'
        || ' not be suspended (fix the address and run dormantctl resend ' || (j->>'subscriber_id')
        || ', or confirm or exempt them)'
  WHEN j#>>'{account,state}' = 'pending' AND j#>>'{account,delivered_at}' IS NULL
   THEN 'asked ' || coalesce(to_char((j#>>'{account,requested_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '?')
        || '; request not delivered yet, so no deadline runs'
  WHEN j#>>'{account,state}' = 'pending'
   THEN 'asked; must answer by ' || coalesce(to_char((j#>>'{account,deadline}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), '?')
  WHEN j#>>'{account,state}' = 'erased' THEN 'personal data erased after suspension'
  WHEN j#>>'{account,state}' = 'active' THEN 'charged; nothing pending'
  ELSE '-' END AS "why",
 j#>>'{source,billing}' AS "billing",
 to_char((j#>>'{source,created_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS "created",
 coalesce(to_char((j#>>'{source,last_activity_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'),
   CASE WHEN j->'source' IS NULL OR jsonb_typeof(j->'source') = 'null'
        THEN 'not in the source table' ELSE 'never' END) AS "last activity",
 (j#>>'{account,cycle}') || coalesce(' (rule ' || (j#>>'{account,rule}') || ')', '')
   AS "cycle",
 to_char((j#>>'{account,requested_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS "requested",
 to_char((j#>>'{account,delivered_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS "delivered",
 to_char((j#>>'{account,deadline}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS "deadline",
 j#>>'{account,reminders_sent}' AS "reminders sent",
 to_char((j#>>'{account,suspended_at}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"') AS "suspended",
 CASE WHEN jsonb_typeof(j->'exemption') = 'object' THEN
   coalesce('until ' || to_char((j#>>'{exemption,until}')::timestamptz, 'YYYY-MM-DD HH24:MI:SS"Z"'), 'indefinitely') || ': '
   || (j#>>'{exemption,reason}') || ' (' || (j#>>'{exemption,actor}') || ')' END
   AS "exempt"
 FROM (SELECT $1::jsonb AS j) AS d
