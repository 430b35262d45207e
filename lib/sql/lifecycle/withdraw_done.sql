-- The withdraw step's result row.
SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM w) < $(limit)::integer AS done,
       0 AS notified
