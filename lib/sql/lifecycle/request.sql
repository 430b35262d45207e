-- A request step: a candidate source, the decision, and what to do with it
-- (request_write.sql, request_preview.sql or request_count.sql).
WITH {SOURCE}
{DECIDE}
{TAIL}
