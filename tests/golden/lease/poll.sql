-- Rendered by tests/check_sql.c for its sample configuration. $n as
-- sent for lifecycle/ and answer/; elsewhere numbered by first use
-- (the module binds its values by name).
-- $1 = id
-- $2 = host
-- $3 = pid
-- $4 = version
-- $5 = stale
-- $6 = paused
-- $7 = disabled
-- $8 = dry_run
-- $9 = epoch
-- $10 = lease
-- $11 = want
-- $12 = name
WITH rep AS (
  INSERT INTO "Dm_x".instance AS i (id, host, pid, version, stale_at, paused, paused_at,
                                 disabled_endpoints, dry_run)
  VALUES ($1, $2, $3::integer, $4, now() + $5::interval,
          $6::boolean, CASE WHEN $6::boolean THEN now() END,
          $7::text[], $8::boolean)
  ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), stale_at = EXCLUDED.stale_at,
     paused = EXCLUDED.paused,
     paused_at = CASE WHEN EXCLUDED.paused THEN coalesce(i.paused_at, now()) END,
     disabled_endpoints = EXCLUDED.disabled_endpoints, dry_run = EXCLUDED.dry_run
  RETURNING 1),
 gone AS (DELETE FROM "Dm_x".instance WHERE stale_at < now() - interval '1 day'),





 other AS (SELECT EXISTS (SELECT 1 FROM "Dm_x".instance o
                           WHERE o.id <> $1 AND o.stale_at > now() AND NOT o.paused
                             AND NOT o.dry_run) AS live),
 give_up AS (
  UPDATE "Dm_x".lease SET expires_at = clock_timestamp()
   WHERE $6::boolean AND (SELECT live FROM other) AND holder = $1
     AND expires_at > clock_timestamp()),
 l AS (
  UPDATE "Dm_x".lease SET
     epoch = CASE WHEN holder = $1 AND epoch = $9::bigint
                   AND expires_at > clock_timestamp() THEN epoch ELSE epoch + 1 END,
     acquired_at = CASE WHEN holder = $1 AND epoch = $9::bigint
                         AND expires_at > clock_timestamp() THEN acquired_at
                        ELSE clock_timestamp() END,
     holder = $1, expires_at = clock_timestamp() + $10::interval
   WHERE $11::boolean AND NOT ($6::boolean AND (SELECT live FROM other))
     AND ((holder = $1 AND epoch = $9::bigint) OR expires_at <= clock_timestamp())
  RETURNING epoch),
 c AS (UPDATE "Dm_x".control SET leader = $12
        WHERE EXISTS (SELECT 1 FROM l WHERE l.epoch <> $9::bigint))
 SELECT (SELECT epoch FROM l), (SELECT paused FROM "Dm_x".control), cur.holder, i.host, i.pid,
        to_char(cur.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        cur.expires_at > clock_timestamp()
   FROM "Dm_x".lease cur LEFT JOIN "Dm_x".instance i ON i.id = cur.holder
