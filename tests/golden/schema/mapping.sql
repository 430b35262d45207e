-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
-- $2 = columns
SELECT m.source_table,
       (SELECT n.nspname || '.' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = to_regclass($1::text)) AS table_now,
       m.source_columns::text,
       m.source_columns IS NOT DISTINCT FROM $2::jsonb AS columns_match
  FROM "Dm_x".meta m
