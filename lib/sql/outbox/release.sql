-- Hands unstarted claims back, due at once: $(ids) is a bigint[] literal.
UPDATE {S}.outbox SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = now()
 WHERE id = ANY($(ids)::bigint[]) AND claimed_by = $(me)
