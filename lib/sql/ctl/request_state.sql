-- Why subscriber $(id) has no request to resend or bounce: their state,
-- and when their request was delivered (NULL when it was not).
SELECT coalesce(a.state, 'never asked'),
       to_char(a.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
  FROM (SELECT 1) one
  LEFT JOIN {S}.account a ON a.subscriber_id = $(id)::{ID_TYPE}
