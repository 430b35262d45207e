-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = table
SELECT format('%I.%I', pn.nspname, c.relname), c.oid::text, quote_ident(tn.nspname),
       quote_ident(pn.nspname)
  FROM pg_class t
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_inherits i ON i.inhparent = t.oid
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_namespace pn ON pn.oid = c.relnamespace
 WHERE t.oid = to_regclass($1) AND t.relkind = 'p'
 ORDER BY c.oid
