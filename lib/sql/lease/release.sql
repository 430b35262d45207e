-- A graceful stop: the lease held at $(epoch) ends now, so that another
-- instance takes over at its next poll, and the instance's row goes.
WITH gone AS (DELETE FROM {S}.instance WHERE id = $(id))
UPDATE {S}.lease SET expires_at = clock_timestamp()
 WHERE holder = $(id) AND epoch = $(epoch)::bigint AND expires_at > clock_timestamp()
