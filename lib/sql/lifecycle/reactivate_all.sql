-- Preview and count of reactivate look at every suspended account, not one page.
WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM {S}.account a
               JOIN {SRC} s ON s.{ID} = a.subscriber_id
              WHERE a.state = 'suspended' AND s.{BILLING} = $(active))
