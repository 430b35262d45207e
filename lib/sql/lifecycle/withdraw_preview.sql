SELECT w.id::text AS subscriber_id, 'withdraw'::text AS action, NULL::text AS rule,
       'left: ' || w.cause AS reason, NULL::timestamptz AS since FROM w ORDER BY w.id
