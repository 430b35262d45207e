-- The end of a migration: the version reached, and when it changed; the
-- source table ($(table), quoted; recorded schema-qualified) and columns
-- ($(columns), a JSON object by configuration key) it was made for.
INSERT INTO {S}.meta (version, id_type, source_table, source_columns)
SELECT $(version)::integer, $(id_type)::text,
       (SELECT n.nspname || '.' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = to_regclass($(table)::text)),
       $(columns)::jsonb
 ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,
 source_table = EXCLUDED.source_table, source_columns = EXCLUDED.source_columns,
 migrated_at = CASE WHEN {S}.meta.version = EXCLUDED.version
 THEN {S}.meta.migrated_at ELSE now() END
