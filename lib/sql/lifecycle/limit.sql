-- {LIMIT} of a writing batch.
LIMIT $(limit)::integer
