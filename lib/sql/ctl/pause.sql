-- dormantctl pause: the flag, who, when and why (NULL without --reason),
-- and its audit event in one statement. The final SELECT sees the row as it
-- was before, which "already paused" needs.
WITH u AS (UPDATE {S}.control SET paused = true, paused_by = $(actor), paused_at = now(),
                  paused_reason = nullif($(reason)::text, '')
            WHERE NOT paused RETURNING paused_at),
 e AS (INSERT INTO {S}.event (kind, actor, detail)
       SELECT 'paused', $(actor), CASE WHEN $(reason) = '' THEN '{}'::jsonb
              ELSE jsonb_build_object('reason', $(reason)::text) END FROM u)
 SELECT (SELECT count(*) FROM u), c.paused_by,
        to_char(c.paused_at, 'YYYY-MM-DD HH24:MI:SS"Z"') FROM {S}.control c
