-- A page of suspended accounts after the cursor, whose source billing is
-- active again: the application resumed charging them. Has its own LIMIT.
WITH cur AS (SELECT reactivation_cursor AS c FROM {S}.control),
page AS (SELECT a.subscriber_id AS id FROM {S}.account a
          WHERE a.state = 'suspended'
            AND (a.subscriber_id > (SELECT c FROM cur) OR (SELECT c FROM cur) IS NULL)
          ORDER BY a.subscriber_id LIMIT $(limit)::integer),
due AS (SELECT p.id, s.{EMAIL}::text AS email, {LOCALE} AS locale, a.suspended_at
          FROM page p JOIN {SRC} s ON s.{ID} = p.id
          JOIN {S}.account a ON a.subscriber_id = p.id
         WHERE s.{BILLING} = $(active))
