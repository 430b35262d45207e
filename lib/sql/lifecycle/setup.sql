-- The configuration the database needs, into the control row.
UPDATE {S}.control SET confirm_within = $(confirm)::interval, reminders = $(reminders)::interval[]
