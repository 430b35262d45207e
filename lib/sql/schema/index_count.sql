-- How many valid indexes of the source table lead with $(column) (the index
-- of a partitioned table is valid once every partition's is attached).
SELECT count(*) FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid
   AND a.attnum = i.indkey[0]
 WHERE i.indrelid = to_regclass($(table)) AND a.attname = $(column) AND i.indisvalid
