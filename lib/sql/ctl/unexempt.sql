-- dormantctl unexempt: removes the exemption, with its audit event.
WITH d AS (DELETE FROM {S}.exemption WHERE subscriber_id = $(id)::{ID_TYPE}
           RETURNING subscriber_id, reason, until),
 e AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)
       SELECT d.subscriber_id, 'unexempted',
              (SELECT cycle FROM {S}.account WHERE subscriber_id = d.subscriber_id), $(actor),
              jsonb_build_object('reason_was', d.reason, 'until_was', d.until) FROM d)
 SELECT count(*) FROM d
