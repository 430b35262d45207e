-- dormantctl show: one subscriber as support sees it. No e-mail address and
-- no message payloads: show answers "what happened", export "what is held".
SELECT jsonb_build_object(
  'subscriber_id', $(id)::{ID_TYPE}::text,
  'source', (SELECT jsonb_build_object('created_at', {CR_TS},
                 'last_activity_at', {LA_TS}, 'billing', s.{BILLING}::text,
                 'billing_active', s.{BILLING}::text = {ACTIVE}::text)
               FROM {SRC} s WHERE s.{ID} = $(id)::{ID_TYPE}),
  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM {S}.account a
               WHERE a.subscriber_id = $(id)::{ID_TYPE}),
  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM {S}.exemption x
               WHERE x.subscriber_id = $(id)::{ID_TYPE}),
  'messages', coalesce((SELECT jsonb_agg(jsonb_build_object('id', o.id, 'type', o.type,
                 'created_at', o.created_at, 'attempts', o.attempts,
                 'next_attempt_at', o.next_attempt_at, 'delivered_at', o.delivered_at,
                 'dead_at', o.dead_at, 'last_error', o.last_error) ORDER BY o.id)
               FROM {S}.outbox o WHERE o.subscriber_id = $(id)::{ID_TYPE}), '[]'),
  'events', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'at', e.at,
                 'kind', e.kind, 'cycle', e.cycle, 'actor', e.actor, 'detail', e.detail)
                 ORDER BY e.id)
               FROM {S}.event e WHERE e.subscriber_id = $(id)::{ID_TYPE}), '[]'))
