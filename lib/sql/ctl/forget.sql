-- dormantctl forget (GDPR art. 17): erases now what dormant holds about
-- $(id), as the erasure step does (the same {ERASE_WIPE},
-- lifecycle/erase_wipe.sql), whatever the account's state, and audits it.
-- The account row stays as a tombstone, state erased, so that no pass asks
-- the subscriber again; its times and rule go. Then the event forgotten
-- with the operator and the reason (its db_user, the session_user, is set
-- by the audit trail's trigger), and, as at erasure, a subscriber.erased
-- message for the application. The sweep never takes a forgotten
-- subscriber back (sweep_write.sql): billing that stays active is the
-- application's business, not a comeback to ask.
WITH acc AS (INSERT INTO {S}.account AS a (subscriber_id, state)
             VALUES ($(id)::{ID_TYPE}, 'erased')
             ON CONFLICT (subscriber_id) DO UPDATE
                SET state = 'erased', rule = NULL, requested_at = NULL,
                    request_outbox_id = NULL, delivered_at = NULL, deadline = NULL,
                    reminders_sent = 0, next_reminder_at = NULL, suspended_at = NULL,
                    confirmed_at = NULL, recheck_at = NULL, updated_at = now()
             RETURNING a.subscriber_id, a.cycle,
                       'superseded: the subscriber was forgotten'::text AS superseded),
{ERASE_WIPE},
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT acc.subscriber_id, 'forgotten', acc.cycle, $(actor),
              jsonb_build_object('reason', $(reason)::text)
         FROM acc)
 SELECT (SELECT count(*) FROM obx) AS messages, (SELECT count(*) FROM evx) AS events,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified
