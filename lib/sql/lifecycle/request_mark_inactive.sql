-- Watermark update of the inactive rule: when the batch was short,
-- everything up to the threshold has been looked at; otherwise up to the
-- batch's last row.
,last_raw AS (SELECT ord, id FROM raw ORDER BY ord DESC, id DESC LIMIT 1),
newmark AS (SELECT CASE WHEN (SELECT count(*) FROM raw) < $(limit)::integer THEN now() - $(inactive)::interval
                        ELSE (SELECT ord FROM last_raw) END AS ts,
                   CASE WHEN (SELECT count(*) FROM raw) < $(limit)::integer THEN NULL
                        ELSE (SELECT id FROM last_raw) END AS id),
mark AS (UPDATE {S}.control SET inactive_mark = (SELECT ts FROM newmark),
                                inactive_mark_id = (SELECT id FROM newmark)
          WHERE NOT (SELECT paused FROM brake))
