-- "dormantctl resend ID": subscriber $(id)'s current request again, as a
-- new message (a new row and id, so receivers that drop repeated ids still
-- get it) with a new link $(url) whose token hash is $(hash). Only while
-- they are pending and no request of the cycle is delivered (it died, it
-- bounced, or it is still being retried: such a row is closed in favour of
-- the new one). The address is read from the source when it is sent
-- (outbox/claim.sql), so a fixed address is the one used. Like a request
-- of the pass: a token, the account pointing at the new row (whose
-- delivery starts the grace period), a "requested" event. Returns the new
-- outbox id, or no row.
WITH a AS (SELECT a.subscriber_id, a.cycle, a.request_outbox_id FROM {S}.account a
            WHERE a.subscriber_id = $(id)::{ID_TYPE} AND a.state = 'pending'
              AND a.delivered_at IS NULL
            FOR UPDATE),
 old AS (SELECT o.payload FROM {S}.outbox o JOIN a ON o.id = a.request_outbox_id),
 closed AS (UPDATE {S}.outbox o
               SET dead_at = now(), last_error = 'superseded: sent again as a new message',
                   claimed_by = NULL, claimed_until = NULL
              FROM a
             WHERE o.subscriber_id = a.subscriber_id AND o.cycle = a.cycle
               AND o.type IN ('confirmation.requested', 'confirmation.reminder')
               AND o.delivered_at IS NULL AND o.dead_at IS NULL
            RETURNING o.id),
 new AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)
         SELECT 'confirmation.requested', a.subscriber_id, a.cycle,
                jsonb_build_object('type', 'confirmation.requested',
                  'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', (coalesce(old.payload -> 'data', '{}'::jsonb) - 'deadline' - 'reason')
                          || jsonb_build_object('subscriber_id', a.subscriber_id::text,
                                                'confirm_url', $(url)::text))
           FROM a LEFT JOIN old ON true
         RETURNING id, subscriber_id, cycle),
 tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)
         SELECT decode($(hash)::text, 'hex'), new.subscriber_id, new.cycle FROM new),
 acc AS (UPDATE {S}.account x SET request_outbox_id = new.id, updated_at = now()
           FROM new WHERE x.subscriber_id = new.subscriber_id),
 ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
        SELECT new.subscriber_id, 'requested', new.cycle, $(actor)::text,
               jsonb_build_object('outbox_id', new.id, 'resend_of', a.request_outbox_id,
                                  'closed', (SELECT count(*) FROM closed))
          FROM new JOIN a ON a.subscriber_id = new.subscriber_id)
SELECT new.id::text, pg_notify('dormant_outbox', new.id::text) FROM new
