/* dormantctl's audited actions: pause, resume, backlog, rescan, exemptions, confirm. */
#ifndef DM_CTL_ACTIONS_H
#define DM_CTL_ACTIONS_H

struct dm_config;

/* pause [--reason TEXT] / resume: the cluster-wide brake in dormant.control. */
int dm_ctl_pause(const struct dm_config *cfg, int argc, char **argv);
int dm_ctl_resume(const struct dm_config *cfg, int argc, char **argv);

/* accept-backlog: lets the pass request the backlog it last counted. */
int dm_ctl_accept_backlog(const struct dm_config *cfg, int argc, char **argv);

/* rescan: the next pass re-examines the whole source table. */
int dm_ctl_rescan(const struct dm_config *cfg, int argc, char **argv);

/* exempt ID [--until TS] --reason TEXT / unexempt ID. */
int dm_ctl_exempt(const struct dm_config *cfg, int argc, char **argv);
int dm_ctl_unexempt(const struct dm_config *cfg, int argc, char **argv);

/* confirm ID --reason TEXT: "Keep my subscription" on the subscriber's behalf. */
int dm_ctl_confirm(const struct dm_config *cfg, int argc, char **argv);

#endif
