-- A partitioned source table's index {IDXNAME}, ON ONLY the parent: no
-- build, invalid until the index of every partition is attached ({KEY}:
-- the column list and predicate of the index).
CREATE INDEX IF NOT EXISTS {IDXNAME} ON ONLY {SRC} {KEY}
