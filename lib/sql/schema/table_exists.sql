-- Whether source.table ($(table), quoted) exists and this role sees it.
SELECT to_regclass($(table)) IS NOT NULL
