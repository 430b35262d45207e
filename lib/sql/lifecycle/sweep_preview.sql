SELECT f.id::text AS subscriber_id, 'request'::text AS action, f.rule,
       'found by the sweep; '
       || CASE f.rule WHEN 'inactive'
            THEN 'no activity since ' || to_char(f.la AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            ELSE 'never active; created '
                 || to_char(f.created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS reason,
       f.ord AS since FROM found f ORDER BY f.ord, f.id LIMIT $(limit)::integer
