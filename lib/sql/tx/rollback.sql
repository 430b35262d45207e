-- Ends a transaction, undoing its work.
ROLLBACK
