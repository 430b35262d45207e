-- The index of one partition {PART}, built without blocking its writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {PNAME} ON {PART} {KEY}
