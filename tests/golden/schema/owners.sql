-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = schema
-- $2 = table
SELECT current_user,
       (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1),
       (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass($2))
