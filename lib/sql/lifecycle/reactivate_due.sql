-- Suspended accounts whose source billing is active again: the application
-- resumed charging them. Two sets are looked at: a page after the cursor,
-- which walks every suspended account over the passes (its own LIMIT), and,
-- on a pass's first page, every account suspended within
-- limits.max_activity_lag, whatever the cursor. The feed's late writes and
-- a billing set back at once come soon after a suspension: they are found
-- the next pass, not when the walk comes round (1,000 pages at 1M
-- suspended).
WITH cur AS (SELECT reactivation_cursor AS c FROM {S}.control),
page AS (SELECT a.subscriber_id AS id FROM {S}.account a
          WHERE a.state = 'suspended'
            AND (a.subscriber_id > (SELECT c FROM cur) OR (SELECT c FROM cur) IS NULL)
          ORDER BY a.subscriber_id LIMIT $(limit)::integer),
recent AS (SELECT a.subscriber_id AS id FROM {S}.account a
            WHERE $(first)::boolean AND a.state = 'suspended'
              AND a.suspended_at > now() - $(lag)::interval),
cand AS (SELECT id FROM page UNION SELECT id FROM recent),
due AS (SELECT p.id, s.{EMAIL}::text AS email, {LOCALE} AS locale, a.suspended_at
          FROM cand p JOIN {SRC} s ON s.{ID} = p.id
          JOIN {S}.account a ON a.subscriber_id = p.id
         WHERE s.{BILLING} = $(active))
