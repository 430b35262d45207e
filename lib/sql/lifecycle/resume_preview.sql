 SELECT due.id::text AS subscriber_id, 'resume'::text AS action, NULL::text AS rule,
        'active at ' || to_char((due.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' after the request of ' || to_char((due.requested_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason,
        due.la AS since FROM due ORDER BY due.la, due.id
