-- Candidates of the inactive rule: source rows whose activity crossed the
-- threshold since the watermark (activity, id), oldest inactivity first.
-- {LIMIT}: the batch's LIMIT, or nothing (preview, count).
-- {MARK_TS}, {MARK_ID}: the watermark, as parameters in the writing batch
-- (planned with its value, so that it walks the index and stops at the
-- batch's end), read from the control row in preview and count.
mk AS (SELECT CASE WHEN rescan THEN NULL ELSE inactive_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE inactive_mark_id END AS id FROM {S}.control),
raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, s.{LA}::timestamptz AS la,
               s.{CREATED}::timestamptz AS created, {LOCALE} AS locale,
               coalesce(s.{BILLING} = $(active), false) AS billing_ok,
               coalesce(({ELIGIBLE}), false) AS elig,
               'inactive'::text AS rule, s.{LA}::timestamptz AS ord
          FROM {SRC} s
         WHERE s.{LA} >= coalesce({MARK_TS}, '-infinity')
           AND (s.{LA} > {MARK_TS} OR s.{ID} > {MARK_ID}
                OR {MARK_TS} IS NULL)
           AND s.{LA} <= now() - $(inactive)::interval
         ORDER BY s.{LA}, s.{ID} {LIMIT}),
