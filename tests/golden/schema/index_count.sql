-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
-- $2 = column
SELECT count(*) FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid
   AND a.attnum = i.indkey[0]
 WHERE i.indrelid = to_regclass($1) AND a.attname = $2 AND i.indisvalid
