-- Candidates of the never-active rule, over the created_at watermark.
-- {LIMIT}, {MARK_TS}, {MARK_ID}: as in request_source_inactive.sql.
mk AS (SELECT CASE WHEN rescan THEN NULL ELSE created_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE created_mark_id END AS id FROM {S}.control),
raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, s.{LA}::timestamptz AS la,
               s.{CREATED}::timestamptz AS created, {LOCALE} AS locale,
               coalesce(s.{BILLING} = $(active), false) AS billing_ok,
               coalesce(({ELIGIBLE}), false) AS elig,
               'never_active'::text AS rule, s.{CREATED}::timestamptz AS ord
          FROM {SRC} s
         WHERE s.{LA} IS NULL
           AND s.{CREATED} >= coalesce({MARK_TS}, '-infinity')
           AND (s.{CREATED} > {MARK_TS} OR s.{ID} > {MARK_ID}
                OR {MARK_TS} IS NULL)
           AND s.{CREATED} <= now() - $(never)::interval AND s.{CREATED} <= now() - $(min_age)::interval
         ORDER BY s.{CREATED}, s.{ID} {LIMIT}),
