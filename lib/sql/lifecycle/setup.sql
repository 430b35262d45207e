-- The configuration the database needs, into the control row: the
-- confirmation period and reminders a request takes at its delivery, and
-- the zone its messages state dates in (deadline_end, migrations/0002),
-- tried here so that a zone PostgreSQL does not know fails the set-up with
-- its name rather than a delivery later.
UPDATE {S}.control SET confirm_within = $(confirm)::interval, reminders = $(reminders)::interval[],
       message_zone = CASE WHEN (now() AT TIME ZONE $(zone)::text) IS NOT NULL
                           THEN $(zone)::text END
