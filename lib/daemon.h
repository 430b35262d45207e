/* The daemon's one context: event base, configuration, connections, modules. */
#ifndef DM_DAEMON_H
#define DM_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dormant.h"
#include "metrics.h"
#include "sql.h"

struct event_base;
struct event;
struct dm_db;
struct dm_pass;
struct dm_outbox;
struct dm_http;
struct dm_reload_check;
struct dm_lease;

/* Flags from the command line that outlive configuration reloads. */
struct dm_options {
    const char *config_path;
    bool once;    /* --once: one pass, deliver what is due, exit */
    bool dry_run; /* --dry-run, or'ed with the file's dry_run */
    bool verbose; /* -v */
};

/*
 * Everything the running daemon knows. There is exactly one, owned by
 * dormantd's main(). The modules it runs (pass, outbox, http) never see
 * it: each gets a struct dm_env (lib/env.h) with its connection, the
 * configuration in force (handed again to its _reconfigure on SIGHUP), the
 * metrics and the hooks through which it asks and tells.
 */
struct dm_daemon {
    struct event_base *base;
    struct dm_options opt;
    struct dm_config *cfg;                /* current configuration; replaced whole on SIGHUP */
    struct dm_sql_names names;            /* cfg's names, quoted for SQL; replaced with it */
    struct dm_reload_check *reload_check; /* a reload waiting for the database's verdict */

    struct dm_db *db_pass;   /* passes, the instance's report and the scanning lease */
    struct dm_db *db_outbox; /* delivery: claims, acknowledgements, LISTEN dormant_outbox */
    struct dm_db *db_http;   /* the confirmation page, health checks, metrics */

    struct dm_lease *lease; /* this instance in the database: report, scanning lease */
    struct dm_pass *pass;
    struct dm_outbox *outbox;
    struct dm_http *http;
    struct dm_metrics metrics;

    bool paused_local; /* SIGUSR1 until SIGUSR2: this process only */
    bool paused_db;    /* dormantctl pause, as last read from the database */
    bool stopping;     /* SIGTERM received: no new work */
    int exit_code;     /* what main() returns */

    struct event *signals[5];
    struct event *watchdog;   /* WATCHDOG=1 at half of WATCHDOG_USEC */
    struct event *stop_tick;  /* polls for the end of in-flight work while stopping */
    int64_t stop_deadline_ms; /* monotonic ms after which stopping gives up waiting */
    bool once_pass_done;      /* --once: the pass has finished */
    bool once_pass_ok;        /* --once: and it succeeded */
};

/* True when work done *to* subscribers must wait (SIGUSR1 or dormantctl pause). */
static inline bool dm_daemon_paused(const struct dm_daemon *d)
{
    return d->paused_local || d->paused_db;
}

/* True when nothing may be written (dry_run in the file or --dry-run). */
static inline bool dm_daemon_dry_run(const struct dm_daemon *d)
{
    return d->opt.dry_run || d->cfg->dry_run;
}

/*
 * Builds the daemon around an already loaded configuration (ownership
 * passes to d): logging, event base, signals, connections, modules. On
 * failure logs the cause and returns the exit code to use.
 */
/* Blocks SIGHUP, SIGUSR1 and SIGUSR2 for the process, so that one sent
 * while it starts is held rather than fatal; dm_daemon_init() unblocks them
 * once they are events of the loop, which then sees those that waited. */
void dm_daemon_hold_signals(void);

int dm_daemon_init(struct dm_daemon *d, const struct dm_options *opt,
                   struct dm_config *cfg) DM_MUST_CHECK;

/* Runs the event loop until the daemon stops; returns the exit code. */
int dm_daemon_run(struct dm_daemon *d);

/* Frees everything dm_daemon_init() built. */
void dm_daemon_cleanup(struct dm_daemon *d);

/* Asks for a graceful stop with the given exit code (used by --once when
 * its work is done, and on fatal errors). */
void dm_daemon_stop(struct dm_daemon *d, int exit_code);

/* The pass_finished hook: one pass ended (ok = false when it failed);
 * summary is a short "requested=3 reminded=1 ..." line for STATUS=. */
void dm_daemon_pass_finished(struct dm_daemon *d, bool ok, const char *summary);

/* The outbox_drained hook: in --once mode, nothing due is left to send. */
void dm_daemon_outbox_drained(struct dm_daemon *d);

/* Publishes a one-line summary as the systemd STATUS=. */
void dm_daemon_status(struct dm_daemon *d, const char *summary);

#endif
