-- Who runs migrate, and who should: the role connected, the owner of the
-- dormant schema (NULL before the first migrate), the source table's owner.
SELECT current_user,
       (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $(schema)),
       (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass($(table)))
