-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = ids
-- $2 = me
UPDATE "Dm_x".outbox SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = now()
 WHERE id = ANY($1::bigint[]) AND claimed_by = $2
