-- Watermark update of the never-active rule (see request_mark_inactive.sql).
,last_raw AS (SELECT ord, id FROM raw ORDER BY ord DESC, id DESC LIMIT 1),
newmark AS (SELECT CASE WHEN (SELECT count(*) FROM raw) < $(limit)::integer
                        THEN least(now() - $(never)::interval, now() - $(min_age)::interval)
                        ELSE (SELECT ord FROM last_raw) END AS ts,
                   CASE WHEN (SELECT count(*) FROM raw) < $(limit)::integer THEN NULL
                        ELSE (SELECT id FROM last_raw) END AS id),
mark AS (UPDATE {S}.control SET created_mark = (SELECT ts FROM newmark),
                                created_mark_id = (SELECT id FROM newmark)
          WHERE NOT (SELECT paused FROM brake))
