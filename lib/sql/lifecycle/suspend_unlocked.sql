-- Who the suspension would take, as preview and count see it: no locks.
due AS (SELECT c.* FROM cand c LEFT JOIN {SRC} s ON s.{ID} = c.id
         WHERE NOT coalesce({LA_TS} > c.requested_at, false))
