 SELECT due.id::text AS subscriber_id, 'reactivate'::text AS action, NULL::text AS rule,
        'billing set back to active' AS reason, due.suspended_at AS since
   FROM due ORDER BY due.id LIMIT $(limit)::integer
