-- A partition's index joins the parent's (a no-op when it already has).
ALTER INDEX {SCHEMA}.{IDXNAME} ATTACH PARTITION {PSCHEMA}.{PNAME}
