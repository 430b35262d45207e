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
-- Each account looked at and its source row, one index probe each (OFFSET 0
-- keeps the LATERAL lookups probes: the planner cannot tell a page of 1,000
-- from the recent set's estimate, and would hash both whole tables).
look AS (SELECT a.subscriber_id AS id, a.cycle, a.state, a.requested_at, a.suspended_at,
                a.used_while_suspended_at, s.{BILLING} = $(active) AS billing_active,
                {LA_TS} AS la, s.{EMAIL}::text AS email, {LOCALE} AS locale
           FROM cand p
           CROSS JOIN LATERAL (SELECT * FROM {S}.account a
                                WHERE a.subscriber_id = p.id OFFSET 0) a
           CROSS JOIN LATERAL (SELECT * FROM {SRC} s WHERE s.{ID} = p.id OFFSET 0) s),
due AS (SELECT id, email, locale, suspended_at FROM look
         WHERE state = 'suspended' AND billing_active)
