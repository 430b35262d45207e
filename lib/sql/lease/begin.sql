-- Opens each transaction of a pass (one simple query): the settings the
-- pass needs, for this transaction only (behind PgBouncer in transaction
-- pooling nothing of a session survives), then the fence ({FENCE}:
-- fence.sql, or nothing in a dry run). No JIT: the batches are short, and
-- on a large table the planner's guess for a watermark range would have
-- every idle pass spend a second compiling code for nothing.
-- client_connection_check_interval: the server notices a vanished leader
-- during a long statement within this time.
BEGIN; SET LOCAL jit = off; SET LOCAL client_connection_check_interval = '2s';
 SET LOCAL DateStyle = 'ISO, YMD'{FENCE}
