-- The type of one column of the source table, formatted ("bigint", "text").
SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
 WHERE a.attrelid = to_regclass($(table)) AND a.attname = $(column)
   AND a.attnum > 0 AND NOT a.attisdropped
