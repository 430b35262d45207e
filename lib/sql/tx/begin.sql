-- Opens a transaction.
BEGIN
