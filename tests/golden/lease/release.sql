-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = epoch
WITH gone AS (DELETE FROM "Dm_x".instance WHERE id = $1)
UPDATE "Dm_x".lease SET expires_at = clock_timestamp()
 WHERE holder = $1 AND epoch = $2::bigint AND expires_at > clock_timestamp()
