/* dormantctl preview: who the next pass would move, by the pass's own SQL. */
#ifndef DM_CTL_PREVIEW_H
#define DM_CTL_PREVIEW_H

#include <stdbool.h>

struct dm_config;
struct dm_ctl;
struct dm_guards;
struct dm_lifecycle;

/*
 * preview [--limit N] [--json]: the guards as the pass would read them, then
 * per action (request, remind, suspend, erase, resume, reactivate) how many
 * subscribers the next pass would move and the first N of them with rule and
 * reason. Runs the lifecycle's own preview and count statements
 * (lib/lifecycle.c) inside a transaction that is rolled back: nothing is
 * written.
 */
int dm_ctl_preview(const struct dm_config *cfg, int argc, char **argv);

/*
 * The guards as the next pass would read and decide them (lib/guards.c),
 * counting the eligible subscribers when the backlog needs them, so that a
 * first run is judged before any pass has counted anything. Writes nothing.
 * False with *rc set when a statement fails.
 */
bool dm_ctl_read_guards(struct dm_ctl *ctl, const struct dm_lifecycle *lc, struct dm_guards *g,
                        int *rc);

#endif
