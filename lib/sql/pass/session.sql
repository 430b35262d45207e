-- Session settings of the pass's connection, then a look at the control row
-- (a plain statement may carry several). No JIT: the batches are short, and
-- on a large table the planner's guess for a watermark range (a third of
-- the rows) would have every idle pass spend a second compiling code for
-- nothing. client_connection_check_interval: the server notices a
-- vanished leader during a long statement within this time.
SET client_connection_check_interval = '2s'; SET jit = off;
 SET DateStyle = 'ISO, YMD';
 SELECT 1 FROM {S}.control
