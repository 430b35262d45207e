-- What a preview row says for a request candidate.
 SELECT d.id::text AS subscriber_id, 'request'::text AS action, d.rule,
        CASE d.rule WHEN 'inactive' THEN 'no activity since ' || to_char((d.la) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
             ELSE 'never active; created ' || to_char((d.created) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS reason,
        d.ord AS since
   FROM dec d WHERE d.decision = 'request' ORDER BY d.ord, d.id LIMIT $(limit)::integer
