-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
SELECT coalesce(a.state, 'never asked'),
       to_char(a.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
  FROM (SELECT 1) one
  LEFT JOIN "Dm_x".account a ON a.subscriber_id = $1::bigint
