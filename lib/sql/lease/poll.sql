-- Each poll of an instance: its report (instance row), the scanning lease
-- taken or renewed when $(want) (renewed while this instance holds it at
-- $(epoch) and unexpired; taken, with the next epoch, once it expired),
-- the leader's name in the control row at a takeover, and what the
-- instance needs to know: its epoch (NULL: not the leader), the cluster
-- pause, and the lease as it stood (holder, host, pid, expiry, live).
-- Small tables, primary keys: the cost is constant.
WITH rep AS (
  INSERT INTO {S}.instance AS i (id, host, pid, version, stale_at, paused, paused_at,
                                 disabled_endpoints, dry_run)
  VALUES ($(id), $(host), $(pid)::integer, $(version), now() + $(stale)::interval,
          $(paused)::boolean, CASE WHEN $(paused)::boolean THEN now() END,
          $(disabled)::text[], $(dry_run)::boolean)
  ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), stale_at = EXCLUDED.stale_at,
     paused = EXCLUDED.paused,
     paused_at = CASE WHEN EXCLUDED.paused THEN coalesce(i.paused_at, now()) END,
     disabled_endpoints = EXCLUDED.disabled_endpoints, dry_run = EXCLUDED.dry_run
  RETURNING 1),
 gone AS (DELETE FROM {S}.instance WHERE stale_at < now() - interval '1 day'),
 -- An instance paused by SIGUSR1 (this process only) leaves the lead to a
 -- live one that is neither paused nor in a dry run, so that the others
 -- keep scanning (promise 4): it neither takes nor renews the lease, and
 -- gives up one it holds (its next pass step then fails the fence). Alone,
 -- it keeps the lead and runs what a paused pass runs (resumes).
 other AS (SELECT EXISTS (SELECT 1 FROM {S}.instance o
                           WHERE o.id <> $(id) AND o.stale_at > now() AND NOT o.paused
                             AND NOT o.dry_run) AS live),
 give_up AS (
  UPDATE {S}.lease SET expires_at = clock_timestamp()
   WHERE $(paused)::boolean AND (SELECT live FROM other) AND holder = $(id)
     AND expires_at > clock_timestamp()),
 l AS (
  UPDATE {S}.lease SET
     epoch = CASE WHEN holder = $(id) AND epoch = $(epoch)::bigint
                   AND expires_at > clock_timestamp() THEN epoch ELSE epoch + 1 END,
     acquired_at = CASE WHEN holder = $(id) AND epoch = $(epoch)::bigint
                         AND expires_at > clock_timestamp() THEN acquired_at
                        ELSE clock_timestamp() END,
     holder = $(id), expires_at = clock_timestamp() + $(lease)::interval
   WHERE $(want)::boolean AND NOT ($(paused)::boolean AND (SELECT live FROM other))
     AND ((holder = $(id) AND epoch = $(epoch)::bigint) OR expires_at <= clock_timestamp())
  RETURNING epoch),
 c AS (UPDATE {S}.control SET leader = $(name)
        WHERE EXISTS (SELECT 1 FROM l WHERE l.epoch <> $(epoch)::bigint))
 SELECT (SELECT epoch FROM l), (SELECT paused FROM {S}.control), cur.holder, i.host, i.pid,
        to_char(cur.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        cur.expires_at > clock_timestamp()
   FROM {S}.lease cur LEFT JOIN {S}.instance i ON i.id = cur.holder
