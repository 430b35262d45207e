/* dormantctl show and export: one subscriber's story, and all dormant holds. */
#ifndef DM_CTL_SUBSCRIBER_H
#define DM_CTL_SUBSCRIBER_H

struct dm_config;

/* show ID [--json]: state, why, deadline, messages and every event. */
int dm_ctl_show(const struct dm_config *cfg, int argc, char **argv);

/* export ID: everything dormant holds about the subscriber, as JSON,
 * including the mapped source columns. */
int dm_ctl_export(const struct dm_config *cfg, int argc, char **argv);

#endif
