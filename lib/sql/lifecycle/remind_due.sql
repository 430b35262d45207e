WITH due AS (SELECT a.subscriber_id AS id, a.cycle, a.deadline, a.rule,
                    s.{EMAIL}::text AS email, {LOCALE} AS locale,
                    {LA_TS} AS la, a.next_reminder_at,
                    row_number() OVER (ORDER BY a.next_reminder_at, a.subscriber_id) AS n
               FROM {S}.account a JOIN {SRC} s ON s.{ID} = a.subscriber_id
              WHERE a.state = 'pending' AND a.next_reminder_at <= now()
                AND a.reminder_outbox_id IS NULL
                AND NOT coalesce({LA_TS} > a.requested_at, false)
              ORDER BY a.next_reminder_at, a.subscriber_id {LIMIT})
