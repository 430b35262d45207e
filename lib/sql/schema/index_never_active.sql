-- The index the never-active rule's watermark walks.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {IDX_NEVER_ACTIVE} ON {SRC} ({CREATED}) WHERE {LA} IS NULL
