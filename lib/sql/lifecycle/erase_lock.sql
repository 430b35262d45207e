-- {ROW_LOCK} of the erasure's writing batch: the source rows it erases.
FOR UPDATE OF s SKIP LOCKED
