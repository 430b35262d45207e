-- Candidates of the never-active rule, over the created_at watermark.
-- {LIMIT}, {MARK_TS}, {MARK_ID}: as in request_source_inactive.sql.
mk AS (SELECT CASE WHEN rescan THEN NULL ELSE created_mark END AS ts,
              CASE WHEN rescan THEN NULL ELSE created_mark_id END AS id FROM {S}.control),
raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, {LA_TS} AS la,
               {CR_TS} AS created, {LOCALE} AS locale,
               coalesce(s.{BILLING} = $(active), false) AS billing_ok,
               coalesce(({ELIGIBLE}), false) AS elig,
               'never_active'::text AS rule, {CR_TS} AS ord
          FROM {SRC} s
         WHERE s.{LA} IS NULL
           AND s.{CREATED} >= {CR_B}coalesce({MARK_TS}, '-infinity'){CR_E}
           AND (s.{CREATED} > {CR_B}{MARK_TS}{CR_E} OR s.{ID} > {MARK_ID}
                OR {MARK_TS} IS NULL)
           AND s.{CREATED} <= {CR_B}now() - $(never)::interval{CR_E}
           AND s.{CREATED} <= {CR_B}now() - $(min_age)::interval{CR_E}
         ORDER BY s.{CREATED}, s.{ID} {LIMIT}),
