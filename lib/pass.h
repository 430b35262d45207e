/* The lifecycle pass: guards, resume, request, remind, suspend, erase. */
#ifndef DM_PASS_H
#define DM_PASS_H

#include <stdbool.h>

struct dm_daemon;
struct dm_pass;

/* Creates the pass scheduler on d->db_pass: it competes for the scanning
 * lease and, while it holds it, runs a pass every limits.poll_interval
 * (once, with --once), then calls dm_daemon_pass_finished(). */
struct dm_pass *dm_pass_new(struct dm_daemon *d);

/* Rebuilds whatever depends on the configuration (after d->cfg changed). */
void dm_pass_reconfigure(struct dm_pass *p);

/* Starts no further statement; the one in flight, if any, completes. */
void dm_pass_stop(struct dm_pass *p);

/* True while a statement of a pass is in flight. */
bool dm_pass_busy(const struct dm_pass *p);

void dm_pass_free(struct dm_pass *p);

#endif
