/* dormantctl's commands: each a function over a blocking libpq connection. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dormant.h"
#include "schema.h"

static int cmd_migrate(const struct dm_config *cfg, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"create-indexes", no_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    bool create = false;
    char err[1024];
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'i') {
            fprintf(stderr, "usage: dormantctl migrate [--create-indexes]\n");
            return DM_EXIT_USAGE;
        }
        create = true;
    }
    if (optind != argc) {
        fprintf(stderr, "dormantctl migrate: unexpected argument \"%s\"\n", argv[optind]);
        return DM_EXIT_USAGE;
    }
    PGconn *conn = dm_schema_connect(cfg, "dormantctl", err, sizeof err);
    if (conn == NULL) {
        fprintf(stderr, "dormantctl: %s\n", err);
        return DM_EXIT_UNAVAILABLE;
    }
    int rc = dm_schema_migrate(conn, cfg, create, stdout, err, sizeof err);
    if (rc != DM_EXIT_OK)
        fprintf(stderr, "dormantctl migrate: %s\n", err);
    PQfinish(conn);
    return rc;
}

static const struct dm_ctl_command commands[] = {
    {"migrate", "[--create-indexes]", "create or upgrade the dormant schema", cmd_migrate},
};

const struct dm_ctl_command *dm_ctl_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void dm_ctl_usage(FILE *out)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-16s %-32s %s\n", commands[i].name, commands[i].synopsis,
                commands[i].help);
}

int dm_ctl_run(const struct dm_ctl_command *cmd, const struct dm_config *cfg, int argc, char **argv)
{
    return cmd->run(cfg, argc, argv);
}
