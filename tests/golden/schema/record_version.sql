-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = version
-- $2 = id_type
INSERT INTO "Dm_x".meta (version, id_type) VALUES ($1::integer, $2::text)
 ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,
 migrated_at = CASE WHEN "Dm_x".meta.version = EXCLUDED.version
 THEN "Dm_x".meta.migrated_at ELSE now() END
