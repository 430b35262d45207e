-- The partitions of the source table $(table) when it is partitioned (none
-- otherwise): each partition qualified and quoted, its oid, the quoted
-- schema of the source table (where the parent's index lives) and that of
-- the partition (where its own goes).
SELECT format('%I.%I', pn.nspname, c.relname), c.oid::text, quote_ident(tn.nspname),
       quote_ident(pn.nspname)
  FROM pg_class t
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_inherits i ON i.inhparent = t.oid
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_namespace pn ON pn.oid = c.relnamespace
 WHERE t.oid = to_regclass($(table)) AND t.relkind = 'p'
 ORDER BY c.oid
