 SELECT due.id::text AS subscriber_id, 'erase'::text AS action, NULL::text AS rule,
        'suspended since ' || to_char((due.suspended_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason,
        due.suspended_at AS since FROM due ORDER BY due.suspended_at, due.id
