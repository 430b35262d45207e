-- Accounts by state, from the status document.
SELECT k AS state, coalesce(j#>>ARRAY['accounts', k], '0') AS subscribers
  FROM (SELECT $(doc)::jsonb AS j) AS d,
       unnest(ARRAY['active', 'pending', 'suspended', 'erased']) WITH ORDINALITY AS t(k, i)
 ORDER BY i
