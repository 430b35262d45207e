/* dormantctl preview: who the next pass would move, by the pass's own SQL. */
#ifndef DM_CTL_PREVIEW_H
#define DM_CTL_PREVIEW_H

struct dm_config;

/*
 * preview [--limit N] [--json]: the guards as the pass would read them, then
 * per action (request, remind, suspend, erase, resume, reactivate) how many
 * subscribers the next pass would move and the first N of them with rule and
 * reason. Runs the lifecycle's own preview and count statements
 * (lib/lifecycle.c) inside a transaction that is rolled back: nothing is
 * written.
 */
int dm_ctl_preview(const struct dm_config *cfg, int argc, char **argv);

#endif
