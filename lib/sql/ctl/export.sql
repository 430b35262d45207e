-- dormantctl export: everything dormant holds about the subscriber,
-- including the mapped source columns (GDPR art. 15). The confirmation link
-- inside a message not yet delivered is left out: it is a live credential,
-- not personal data.
SELECT jsonb_pretty(jsonb_build_object(
  'subscriber_id', $(id)::{ID_TYPE}::text,
  'exported_at', now(),
  'source', (SELECT jsonb_build_object('id', s.{ID}::text, 'email', s.{EMAIL},
                 'created_at', {CR_TS}, 'last_activity_at', {LA_TS},
                 'locale', {LOCALE}, 'billing', s.{BILLING}::text)
               FROM {SRC} s WHERE s.{ID} = $(id)::{ID_TYPE}),
  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM {S}.account a
               WHERE a.subscriber_id = $(id)::{ID_TYPE}),
  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM {S}.exemption x
               WHERE x.subscriber_id = $(id)::{ID_TYPE}),
  'tokens', coalesce((SELECT jsonb_agg(jsonb_build_object('cycle', t.cycle,
                 'created_at', t.created_at) ORDER BY t.created_at)
               FROM {S}.token t WHERE t.subscriber_id = $(id)::{ID_TYPE}), '[]'),
  'messages', coalesce((SELECT jsonb_agg((to_jsonb(o) - 'subscriber_id' - 'payload'
                   - 'claimed_by' - 'claimed_until')
                 || jsonb_build_object('payload', o.payload #- '{data,confirm_url}')
                 ORDER BY o.id)
               FROM {S}.outbox o WHERE o.subscriber_id = $(id)::{ID_TYPE}), '[]'),
  'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'subscriber_id' ORDER BY e.id)
               FROM {S}.event e WHERE e.subscriber_id = $(id)::{ID_TYPE}), '[]')))
