-- {MARK_ID} of a writing batch.
$(mark_id)
