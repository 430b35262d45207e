-- The scanning leader's lock (session-level advisory lock on the key), the
-- leader's name in the control row when it got it and may write, and the
-- cluster-wide pause flag.
WITH l AS MATERIALIZED (SELECT pg_try_advisory_lock(hashtext($(key))) AS got),
 u AS (UPDATE {S}.control SET leader = $(leader) WHERE (SELECT got FROM l)
 AND $(write)::boolean RETURNING 1)
 SELECT got, (SELECT count(*) FROM u),
 (SELECT paused FROM {S}.control) FROM l
