-- {ERASE_SOURCE}: erase_source.sql when policy.erase_columns is set, or nothing.
-- {ERASE_WIPE}: erase_wipe.sql, what dormantctl forget wipes too.
-- Moves nobody while the cluster-wide pause is set (promise 7: a statement
-- that begins after dormantctl pause committed changes nothing), and says so.
,
acc AS (UPDATE {S}.account a SET state = 'erased', updated_at = now()
          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'
           AND NOT (SELECT paused FROM {S}.control)
        RETURNING a.subscriber_id, a.cycle,
                  'superseded: the subscriber was erased'::text AS superseded),{ERASE_SOURCE}
{ERASE_WIPE},
ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor)
       SELECT acc.subscriber_id, 'erased', acc.cycle, 'daemon' FROM acc)
 SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $(limit)::integer AS done,
        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg LIMIT 1) x)
          AS notified,
        (SELECT paused FROM {S}.control) AS paused
