-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = url
-- $3 = hash
-- $4 = actor
WITH a AS (SELECT a.subscriber_id, a.cycle, a.request_outbox_id FROM "Dm_x".account a
            WHERE a.subscriber_id = $1::bigint AND a.state = 'pending'
              AND a.delivered_at IS NULL
            FOR UPDATE),
 old AS (SELECT o.payload FROM "Dm_x".outbox o JOIN a ON o.id = a.request_outbox_id),
 closed AS (UPDATE "Dm_x".outbox o
               SET dead_at = now(), last_error = 'superseded: sent again as a new message',
                   claimed_by = NULL, claimed_until = NULL
              FROM a
             WHERE o.subscriber_id = a.subscriber_id AND o.cycle = a.cycle
               AND o.type IN ('confirmation.requested', 'confirmation.reminder')
               AND o.delivered_at IS NULL AND o.dead_at IS NULL
            RETURNING o.id),
 new AS (INSERT INTO "Dm_x".outbox (type, subscriber_id, cycle, payload)
         SELECT 'confirmation.requested', a.subscriber_id, a.cycle,
                jsonb_build_object('type', 'confirmation.requested',
                  'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  'data', (coalesce(old.payload -> 'data', '{}'::jsonb) - 'deadline' - 'reason')
                          || jsonb_build_object('subscriber_id', a.subscriber_id::text,
                                                'confirm_url', $2::text))
           FROM a LEFT JOIN old ON true
         RETURNING id, subscriber_id, cycle),
 tok AS (INSERT INTO "Dm_x".token (hash, subscriber_id, cycle)
         SELECT decode($3::text, 'hex'), new.subscriber_id, new.cycle FROM new),
 acc AS (UPDATE "Dm_x".account x SET request_outbox_id = new.id, updated_at = now()
           FROM new WHERE x.subscriber_id = new.subscriber_id),
 ev AS (INSERT INTO "Dm_x".event (subscriber_id, kind, cycle, actor, detail)
        SELECT new.subscriber_id, 'requested', new.cycle, $4::text,
               jsonb_build_object('outbox_id', new.id, 'resend_of', a.request_outbox_id,
                                  'closed', (SELECT count(*) FROM closed))
          FROM new JOIN a ON a.subscriber_id = new.subscriber_id)
SELECT new.id::text, pg_notify('dormant_outbox', new.id::text) FROM new
