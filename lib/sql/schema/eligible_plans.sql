-- source.eligible must plan against the source table.
EXPLAIN SELECT 1 FROM {SRC} s WHERE {ELIGIBLE}
