/* dormantctl: flags and command dispatch. Wiring only; commands live in lib/ctl.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "dormant.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dormantctl [-c FILE] COMMAND [ARGS] [--json]\n"
            "  -c, --config FILE  configuration file (default " DM_SYSCONFDIR "/dormant.conf)\n"
            "      --version      print the version and exit\n"
            "      --help         print this help and exit\n"
            "commands:\n");
    dm_ctl_usage(out);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = DM_SYSCONFDIR "/dormant.conf";
    char err[1024];
    int c;

    /* Stop at the command: its own flags are parsed by the command. */
    while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'V':
            printf("dormantctl %s\n", DM_VERSION);
            return DM_EXIT_OK;
        case 'h':
            usage(stdout);
            return DM_EXIT_OK;
        default:
            usage(stderr);
            return DM_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "dormantctl: missing command (see dormantctl --help)\n");
        return DM_EXIT_USAGE;
    }
    const struct dm_ctl_command *cmd = dm_ctl_find(argv[optind]);
    if (cmd == NULL) {
        fprintf(stderr, "dormantctl: unknown command \"%s\" (see dormantctl --help)\n",
                argv[optind]);
        return DM_EXIT_USAGE;
    }
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return DM_EXIT_CONFIG;
    }
    int rc = dm_ctl_run(cmd, cfg, argc - optind, argv + optind);
    dm_config_free(cfg);
    return rc;
}
