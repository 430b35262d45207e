-- The billing values must be valid for the column's {TYPE} (enum types).
SELECT {ACTIVE}::{TYPE}, {SUSPENDED}::{TYPE}
