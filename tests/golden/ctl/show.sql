-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
SELECT jsonb_build_object(
  'subscriber_id', $1::bigint::text,
  'source', (SELECT jsonb_build_object('created_at', (s."created_at"),
                 'last_activity_at', (s."last_activity_at"), 'billing', s."billing_status"::text,
                 'billing_active', s."billing_status"::text = 'active'::text)
               FROM "public"."subscribers" s WHERE s."id" = $1::bigint),
  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM "Dm_x".account a
               WHERE a.subscriber_id = $1::bigint),
  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM "Dm_x".exemption x
               WHERE x.subscriber_id = $1::bigint),
  'messages', coalesce((SELECT jsonb_agg(jsonb_build_object('id', o.id, 'type', o.type,
                 'created_at', o.created_at, 'attempts', o.attempts,
                 'next_attempt_at', o.next_attempt_at, 'delivered_at', o.delivered_at,
                 'dead_at', o.dead_at, 'last_error', o.last_error) ORDER BY o.id)
               FROM "Dm_x".outbox o WHERE o.subscriber_id = $1::bigint), '[]'),
  'events', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'at', e.at,
                 'kind', e.kind, 'cycle', e.cycle, 'actor', e.actor, 'detail', e.detail)
                 ORDER BY e.id)
               FROM "Dm_x".event e WHERE e.subscriber_id = $1::bigint), '[]'))
