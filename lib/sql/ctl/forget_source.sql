-- dormantctl forget: the source's policy.erase_columns of $(id), now,
-- whatever its billing (the operator's order, not the erasure step's rule).
UPDATE {SRC} s SET {ERASE_SET} WHERE s.{ID} = $(id)::{ID_TYPE}
