-- The end of a migration: the version reached, and when it changed.
INSERT INTO {S}.meta (version, id_type) VALUES ($(version)::integer, $(id_type)::text)
 ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,
 migrated_at = CASE WHEN {S}.meta.version = EXCLUDED.version
 THEN {S}.meta.migrated_at ELSE now() END
