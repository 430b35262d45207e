-- Candidates of the inactive rule: source rows whose activity crossed the
-- threshold since the watermark (activity, id), oldest inactivity first.
-- {LIMIT}: the batch's LIMIT, or nothing (preview, count).
-- {MARK_TS}, {MARK_ID}: the watermark, as parameters in the writing batch
-- (planned with its value, so that it walks the index and stops at the
-- batch's end), read from the control row in preview and count.
-- Times are compared as instants (lib/clock.h): {LA_TS} is the one the
-- column holds, and the column meets bounds converted to its own type,
-- {LA_B}...{LA_E}, so that the index on it still serves.
mk AS (SELECT CASE WHEN rescan THEN NULL ELSE inactive_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE inactive_mark_id END AS id FROM {S}.control),
raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, {LA_TS} AS la,
               {CR_TS} AS created, {LOCALE} AS locale,
               coalesce(s.{BILLING} = $(active), false) AS billing_ok,
               coalesce(({ELIGIBLE}), false) AS elig,
               'inactive'::text AS rule, {LA_TS} AS ord
          FROM {SRC} s
         WHERE s.{LA} >= {LA_B}coalesce({MARK_TS}, '-infinity'){LA_E}
           AND (s.{LA} > {LA_B}{MARK_TS}{LA_E} OR s.{ID} > {MARK_ID}
                OR {MARK_TS} IS NULL)
           AND s.{LA} <= {LA_B}now() - $(inactive)::interval{LA_E}
         ORDER BY s.{LA}, s.{ID} {LIMIT}),
