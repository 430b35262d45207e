-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = confirm
-- $2 = reminders
-- $3 = zone
UPDATE "Dm_x".control SET confirm_within = $1::interval, reminders = $2::interval[],
       message_zone = CASE WHEN (now() AT TIME ZONE $3::text) IS NOT NULL
                           THEN $3::text END
