-- Subscribers with active billing matching source.eligible.
SELECT count(*) FROM {SRC} s WHERE s.{BILLING} = $(active) AND coalesce(({ELIGIBLE}), false)
