-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
BEGIN; SET LOCAL jit = off; SET LOCAL client_connection_check_interval = '2s';
 SET LOCAL DateStyle = 'ISO, YMD';
 SELECT "Dm_x".lease_fence('0123456789ab', 7, '5000 milliseconds')
