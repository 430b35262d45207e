/* dormantd: flags, configuration, then the event loop. Wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "dormant.h"
#include "log.h"
#include "nullcheck.h"
#include "smtp_probe.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dormantd [-c FILE] [--check-config] [--once] [--dry-run] [-v] "
            "[--version] [--help]\n"
            "  -c, --config FILE  configuration file (default " DM_SYSCONFDIR "/dormant.conf)\n"
            "      --check-config validate the configuration and exit\n"
            "      --once         run one pass, deliver what is due, exit\n"
            "      --dry-run      log and count what would be done, write nothing\n"
            "  -v, --verbose      debug logging\n"
            "      --version      print the version and exit\n"
            "      --help         print this help and exit\n");
}

int main(int argc, char **argv)
{
    enum { OPT_CHECK = 256, OPT_ONCE, OPT_DRY_RUN, OPT_VERSION, OPT_HELP };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, OPT_CHECK},
        {"once", no_argument, NULL, OPT_ONCE},    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},    {NULL, 0, NULL, 0},
    };
    struct dm_options opt = {.config_path = DM_SYSCONFDIR "/dormant.conf"};
    bool check_only = false;
    int c;
    char err[1024];

    /* Until the loop watches them, a reload or pause signal waits instead of
     * killing the process (their default action); dm_daemon_init() lets
     * them through once they are events. */
    dm_daemon_hold_signals();

    while ((c = getopt_long(argc, argv, "c:v", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt.config_path = optarg;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case OPT_CHECK:
            check_only = true;
            break;
        case OPT_ONCE:
            opt.once = true;
            break;
        case OPT_DRY_RUN:
            opt.dry_run = true;
            break;
        case OPT_VERSION:
            printf("dormantd %s\n", DM_VERSION);
            return DM_EXIT_OK;
        case OPT_HELP:
            usage(stdout);
            return DM_EXIT_OK;
        default:
            usage(stderr);
            return DM_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dormantd: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return DM_EXIT_USAGE;
    }

    struct dm_config *cfg = dm_config_load(opt.config_path, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return DM_EXIT_CONFIG;
    }
    if (check_only) {
        /* The configured server, when reachable: does it offer what
         * email.starttls requires? Unreachable is only a warning. */
        switch (dm_smtp_probe(cfg, 5000, err, sizeof err)) {
        case DM_PROBE_NO_STARTTLS:
            fprintf(stderr, "%s: %s\n", opt.config_path, err);
            dm_config_free(cfg);
            return DM_EXIT_CONFIG;
        case DM_PROBE_UNREACHABLE:
            fprintf(stderr, "%s: warning: %s\n", opt.config_path, err);
            break;
        case DM_PROBE_OK:
            break;
        }
        /* Rows source.eligible leaves out by a NULL: only a warning. */
        dm_nullcheck_print(cfg, stderr);
        printf("%s: ok\n", opt.config_path);
        dm_config_free(cfg);
        return DM_EXIT_OK;
    }

    struct dm_daemon d;
    int rc = dm_daemon_init(&d, &opt, cfg);
    if (rc == DM_EXIT_OK)
        rc = dm_daemon_run(&d);
    dm_daemon_cleanup(&d);
    dm_log_shutdown();
    return rc;
}
