-- The state of one subscriber's account, for "nothing to confirm" messages.
SELECT coalesce((SELECT state FROM {S}.account WHERE subscriber_id = $(id)::{ID_TYPE}),
 'never asked')
