-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = key
-- $2 = leader
-- $3 = write
WITH l AS MATERIALIZED (SELECT pg_try_advisory_lock(hashtext($1)) AS got),
 u AS (UPDATE "Dm_x".control SET leader = $2 WHERE (SELECT got FROM l)
 AND $3::boolean RETURNING 1)
 SELECT got, (SELECT count(*) FROM u),
 (SELECT paused FROM "Dm_x".control) FROM l
