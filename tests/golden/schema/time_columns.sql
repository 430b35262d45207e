-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
-- $2 = activity
-- $3 = created
-- $4 = zone
SELECT (SELECT a.atttypid::regtype::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass($1) AND a.attname = $2
           AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT a.atttypid::regtype::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass($1) AND a.attname = $3
           AND a.attnum > 0 AND NOT a.attisdropped),
       current_setting('TimeZone'),
       $4 = '' OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $4)
