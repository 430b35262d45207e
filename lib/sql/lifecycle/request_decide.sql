-- The decision for each candidate of a request step: request now, look
-- again later (with when), or skip. Follows a request_source_*.sql;
-- shared by the writing, preview and count statements.
cand AS (SELECT r.*, a.state AS astate, a.confirmed_at,
                e.subscriber_id IS NOT NULL AND (e.until IS NULL OR e.until > now()) AS exempt,
                CASE WHEN e.until > now() THEN e.until END AS exempt_until,
                CASE r.rule WHEN 'inactive' THEN $(inactive)::interval ELSE $(never)::interval END AS after
           FROM raw r
           LEFT JOIN LATERAL (SELECT * FROM {S}.account a
                               WHERE a.subscriber_id = r.id OFFSET 0) a ON true
           LEFT JOIN LATERAL (SELECT * FROM {S}.exemption e
                               WHERE e.subscriber_id = r.id OFFSET 0) e ON true),
dec AS (SELECT c.*,
               CASE WHEN NOT c.billing_ok OR NOT c.elig OR c.after IS NULL THEN 'skip'
                    WHEN c.astate IS NOT NULL AND c.astate <> 'active' THEN 'skip'
                    WHEN coalesce(c.la, c.created) > now() - c.after THEN 'skip'
                    WHEN c.exempt AND c.exempt_until IS NULL THEN 'skip'
                    WHEN c.exempt OR c.created > now() - $(min_age)::interval
                         OR c.confirmed_at > now() - c.after THEN 'later'
                    ELSE 'request' END AS decision,
               greatest(c.exempt_until, c.created + $(min_age)::interval, c.confirmed_at + c.after)
                 AS later_at
          FROM cand c)
