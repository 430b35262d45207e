-- Everyone the request steps would ask now, unbatched: {PARTS} is one
-- backlog_count.sql or backlog_any.sql per request step.
(0{PARTS})
