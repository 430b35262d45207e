-- The count statement of resume, reactivate, remind, suspend and erase.
SELECT count(*) FROM due
