-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
-- $2 = column
SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
 WHERE a.attrelid = to_regclass($1) AND a.attname = $2
   AND a.attnum > 0 AND NOT a.attisdropped
