/* The outbox dispatcher: claims due messages and delivers them. */
#ifndef DM_OUTBOX_H
#define DM_OUTBOX_H

#include <stdbool.h>

struct dm_daemon;
struct dm_outbox;

/* Creates the dispatcher on d->db_outbox (LISTEN dormant_outbox, retry
 * timer). With no channel configured it only keeps the metrics current. */
struct dm_outbox *dm_outbox_new(struct dm_daemon *d);

/* Picks up a new configuration (channels, secrets, retry lists). */
void dm_outbox_reconfigure(struct dm_outbox *o);

/* Looks for due messages now. In --once mode, calls
 * dm_daemon_outbox_drained() once nothing due is left. */
void dm_outbox_kick(struct dm_outbox *o);

/* Claims nothing new; deliveries in flight go on. */
void dm_outbox_stop(struct dm_outbox *o);

/* Number of deliveries in flight. */
int dm_outbox_inflight(const struct dm_outbox *o);

void dm_outbox_free(struct dm_outbox *o);

#endif
