-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
SELECT jsonb_pretty(jsonb_build_object(
  'subscriber_id', $1::bigint::text,
  'exported_at', now(),
  'source', (SELECT jsonb_build_object('id', s."id"::text, 'email', s."email",
                 'created_at', (s."created_at"), 'last_activity_at', (s."last_activity_at"),
                 'locale', s."locale"::text, 'billing', s."billing_status"::text)
               FROM "public"."subscribers" s WHERE s."id" = $1::bigint),
  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM "Dm_x".account a
               WHERE a.subscriber_id = $1::bigint),
  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM "Dm_x".exemption x
               WHERE x.subscriber_id = $1::bigint),
  'tokens', coalesce((SELECT jsonb_agg(jsonb_build_object('cycle', t.cycle,
                 'created_at', t.created_at) ORDER BY t.created_at)
               FROM "Dm_x".token t WHERE t.subscriber_id = $1::bigint), '[]'),
  'messages', coalesce((SELECT jsonb_agg((to_jsonb(o) - 'subscriber_id' - 'payload'
                   - 'claimed_by' - 'claimed_until')
                 || jsonb_build_object('payload', o.payload #- '{data,confirm_url}')
                 ORDER BY o.id)
               FROM "Dm_x".outbox o WHERE o.subscriber_id = $1::bigint), '[]'),
  'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'subscriber_id' ORDER BY e.id)
               FROM "Dm_x".event e WHERE e.subscriber_id = $1::bigint), '[]')))
