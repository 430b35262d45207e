/* The outbox dispatcher: claims due messages and delivers them.
 *
 * It decides when to claim, starts each claimed row's webhook and e-mail
 * transfers on the shared curl loop, and hands each round's outcome to the
 * writer. Its parts: outbox_claim.h (the claim as a visibility time, its
 * position in outbox_due, releases), outbox_outcome.h (the retry rules, a
 * pure function), outbox_writer.h (outcomes, many a statement), email.h's
 * dm_email_prepare (what an e-mail says and whether one is owed) and
 * outbox_purge.h (old rows leave). */
#ifndef DM_OUTBOX_H
#define DM_OUTBOX_H

#include <stdbool.h>

struct dm_config;
struct dm_env;
struct dm_outbox;
struct dm_sql_names;

/* Creates the dispatcher on env->db (env is copied; LISTEN dormant_outbox,
 * retry timer). It asks env's paused and dry_run hooks before each claim,
 * and calls fatal when --once cannot claim. With no channel configured it
 * only keeps the metrics current. Old messages are deleted beside it on the
 * same connection (outbox_purge.h). */
struct dm_outbox *dm_outbox_new(const struct dm_env *env);

/* Takes the next configuration and its names (kept alive by the caller):
 * channels, secrets, retry lists. */
void dm_outbox_reconfigure(struct dm_outbox *o, const struct dm_config *cfg,
                           const struct dm_sql_names *names);

/* Looks for due messages now. With env->once, calls the outbox_drained
 * hook once nothing due is left. */
void dm_outbox_kick(struct dm_outbox *o);

/* Claims nothing new; deliveries in flight go on. */
void dm_outbox_stop(struct dm_outbox *o);

/* Number of deliveries in flight. */
int dm_outbox_inflight(const struct dm_outbox *o);

/* True while a 410 Gone keeps the webhook disabled (until reload). */
bool dm_outbox_webhook_disabled(const struct dm_outbox *o);

void dm_outbox_free(struct dm_outbox *o);

#endif
