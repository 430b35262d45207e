-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
SELECT coalesce((SELECT state FROM "Dm_x".account WHERE subscriber_id = $1::bigint),
 'never asked')
