-- Erasing the mapped source columns (policy.erase_columns).
src AS (UPDATE {SRC} s SET {ERASE_SET} FROM acc WHERE s.{ID} = acc.subscriber_id),
