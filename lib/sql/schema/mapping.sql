-- The source table and columns the schema was migrated for, beside the
-- table source.table ($(table), quoted) names now, schema-qualified (NULL
-- when it does not exist or this role cannot see it), and whether the
-- configured columns ($(columns), as record_version.sql writes them) are
-- the recorded ones.
SELECT m.source_table,
       (SELECT n.nspname || '.' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = to_regclass($(table)::text)) AS table_now,
       m.source_columns::text,
       m.source_columns IS NOT DISTINCT FROM $(columns)::jsonb AS columns_match
  FROM {S}.meta m
