 SELECT due.id::text AS subscriber_id, 'suspend'::text AS action, NULL::text AS rule,
        'deadline ' || to_char((due.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' passed; delivered ' || to_char((due.delivered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason,
        due.deadline AS since FROM due ORDER BY due.deadline, due.id
