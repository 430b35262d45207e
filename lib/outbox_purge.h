/* Old messages leave the outbox: limits.keep_messages. */
#ifndef DM_OUTBOX_PURGE_H
#define DM_OUTBOX_PURGE_H

struct dm_config;
struct dm_env;
struct dm_purge;
struct dm_sql_names;

/*
 * Deletes delivered or dead outbox rows that finished more than
 * limits.keep_messages ago, in the background on env->db: one batch of at
 * most DM_PURGE_BATCH rows (lib/sql/outbox/purge.sql: oldest first from a
 * partial index, so a batch costs the same at any size of the table; rows
 * locked by others are skipped, never waited for) when the connection comes
 * up and then once per limits.poll_interval, or again a second later while
 * batches come back full. The current request of a pending subscriber is
 * kept; the events are never touched. Nothing is deleted under dry_run or
 * --once. Every instance may run it: two batches skip each other's rows.
 * After each batch it folds the count deltas of the tally table that
 * /metrics sums (outbox/tally_fold.sql), keeping that table small.
 */
#define DM_PURGE_BATCH 500

struct dm_purge *dm_purge_new(const struct dm_env *env);

/* Takes the next configuration and its names (kept alive by the caller). */
void dm_purge_reconfigure(struct dm_purge *p, const struct dm_config *cfg,
                          const struct dm_sql_names *names);

/* Starts no further batch (one in flight ends on its own). */
void dm_purge_stop(struct dm_purge *p);

void dm_purge_free(struct dm_purge *p);

#endif
