-- The --json form of a document.
SELECT jsonb_pretty($(doc)::jsonb)
