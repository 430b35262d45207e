-- The index the inactive rule's watermark walks.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {IDX_LAST_ACTIVITY} ON {SRC} ({LA})
