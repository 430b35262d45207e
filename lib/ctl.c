/* dormantctl's commands: each a function over a blocking libpq connection. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_actions.h"
#include "ctl_delivery.h"
#include "ctl_forget.h"
#include "ctl_preview.h"
#include "ctl_status.h"
#include "ctl_subscriber.h"
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
    {"status", "[--json]", "counts by state, outbox, last pass, guards, pause", dm_ctl_status},
    {"preview", "[--limit N] [--json]", "who the next pass would move, and why; writes nothing",
     dm_ctl_preview},
    {"show", "ID [--json]", "one subscriber's state, deadline, messages, events", dm_ctl_show},
    {"exempt", "ID [--until TS] --reason TEXT", "never ask or suspend this subscriber",
     dm_ctl_exempt},
    {"unexempt", "ID", "remove an exemption", dm_ctl_unexempt},
    {"confirm", "ID --reason TEXT", "keep the subscription on the subscriber's behalf",
     dm_ctl_confirm},
    {"resend", "ID", "send the current request again as a new message, with a new link",
     dm_ctl_resend},
    {"bounced", "ID [--reason TEXT]", "the last request or reminder bounced: undo its delivery",
     dm_ctl_bounced},
    {"pause", "[--reason TEXT]", "stop everything done to subscribers, cluster-wide", dm_ctl_pause},
    {"resume", "", "undo pause", dm_ctl_resume},
    {"accept-backlog", "", "release the backlog guard for the current backlog",
     dm_ctl_accept_backlog},
    {"rescan", "", "re-examine the whole source table on the next pass", dm_ctl_rescan},
    {"export", "ID", "everything dormant holds about a subscriber, as JSON", dm_ctl_export},
    {"forget", "ID --reason TEXT", "erase now what dormant holds about a subscriber (GDPR)",
     dm_ctl_forget},
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
