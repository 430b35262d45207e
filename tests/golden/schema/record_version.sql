-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = version
-- $2 = id_type
-- $3 = table
-- $4 = columns
INSERT INTO "Dm_x".meta (version, id_type, source_table, source_columns)
SELECT $1::integer, $2::text,
       (SELECT n.nspname || '.' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = to_regclass($3::text)),
       $4::jsonb
 ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,
 source_table = EXCLUDED.source_table, source_columns = EXCLUDED.source_columns,
 migrated_at = CASE WHEN "Dm_x".meta.version = EXCLUDED.version
 THEN "Dm_x".meta.migrated_at ELSE now() END
