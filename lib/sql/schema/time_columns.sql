-- What one clock needs to know (clock.h): the types of the two mapped time
-- columns of $(table) (without modifiers: a Rails timestamp(6) is a
-- timestamp; NULL when a column is missing), the server's TimeZone for the
-- error message, and whether PostgreSQL knows source.timezone ('' counts).
SELECT (SELECT a.atttypid::regtype::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass($(table)) AND a.attname = $(activity)
           AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT a.atttypid::regtype::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass($(table)) AND a.attname = $(created)
           AND a.attnum > 0 AND NOT a.attisdropped),
       current_setting('TimeZone'),
       $(zone) = '' OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $(zone))
