-- The type of one column of the source table, formatted without its
-- modifier ("bigint", "text"; a Rails timestamp(6) is a timestamp).
SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
 WHERE a.attrelid = to_regclass($(table)) AND a.attname = $(column)
   AND a.attnum > 0 AND NOT a.attisdropped
