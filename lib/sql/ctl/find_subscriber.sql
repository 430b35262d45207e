-- Whether $(id) is in the source table, and whether dormant knows it. The
-- cast validates the literal: a bad one fails with SQLSTATE class 22.
SELECT EXISTS (SELECT 1 FROM {SRC} WHERE {ID} = $(id)::{ID_TYPE}),
 EXISTS (SELECT 1 FROM {S}.account WHERE subscriber_id = $(id)::{ID_TYPE})
 OR EXISTS (SELECT 1 FROM {S}.event WHERE subscriber_id = $(id)::{ID_TYPE})
