-- The batch locks its source rows and reads their activity again: a write
-- that committed while the statement waited for a row is seen (READ
-- COMMITTED reads again a row it had to wait for), and such a subscriber is
-- left to the resume step.
lk AS MATERIALIZED (SELECT s.{ID} AS id, {LA_TS} AS la FROM {SRC} s
                      JOIN cand c ON s.{ID} = c.id FOR UPDATE OF s),
due AS (SELECT c.* FROM cand c LEFT JOIN lk ON lk.id = c.id
         WHERE NOT coalesce(lk.la > c.requested_at, false))
