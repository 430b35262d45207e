-- Accounts whose recheck time came (confirmed, exempt until, too young).
-- {LIMIT}: as in request_source_inactive.sql.
raw AS (SELECT a.subscriber_id AS id, s.{EMAIL}::text AS email,
               {LA_TS} AS la, {CR_TS} AS created,
               {LOCALE} AS locale,
               coalesce(s.{BILLING} = $(active), false) AS billing_ok,
               coalesce(({ELIGIBLE}), false) AS elig,
               CASE WHEN s.{LA} IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,
               a.recheck_at AS ord
          FROM {S}.account a LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id
         WHERE a.state = 'active' AND a.recheck_at <= now()
         ORDER BY a.recheck_at, a.subscriber_id {LIMIT}),
