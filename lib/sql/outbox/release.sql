-- Hands unstarted claims back: $(ids) is a bigint[] literal.
UPDATE {S}.outbox SET claimed_by = NULL, claimed_until = NULL
 WHERE id = ANY($(ids)::bigint[]) AND claimed_by = $(me)
