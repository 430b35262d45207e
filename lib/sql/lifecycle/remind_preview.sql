 SELECT due.id::text AS subscriber_id, 'remind'::text AS action, due.rule,
        'deadline ' || to_char((due.deadline) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS reason, due.next_reminder_at AS since
   FROM due ORDER BY due.next_reminder_at, due.id
