/* dormantctl status: the whole deployment at a glance. */
#ifndef DM_CTL_STATUS_H
#define DM_CTL_STATUS_H

struct dm_config;

/* status [--json]: counts by state, outbox by delivery state, last pass,
 * guards, pause. Returns an exit code. */
int dm_ctl_status(const struct dm_config *cfg, int argc, char **argv);

#endif
