/* dormantctl's commands: each a function over a blocking libpq connection. */
#ifndef DM_CTL_H
#define DM_CTL_H

#include <stdio.h>

struct dm_config;

/* One command: name, argument synopsis, one-line help, and its body, which
 * gets argv starting at the command's name and returns an exit code. */
struct dm_ctl_command {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(const struct dm_config *cfg, int argc, char **argv);
};

const struct dm_ctl_command *dm_ctl_find(const char *name);
void dm_ctl_usage(FILE *out);
int dm_ctl_run(const struct dm_ctl_command *cmd, const struct dm_config *cfg, int argc,
               char **argv);

#endif
