/* What the daemon gives the modules it runs (pass, outbox, http), and how they answer. */
#ifndef DM_ENV_H
#define DM_ENV_H

#include <stdbool.h>

struct event_base;
struct dm_config;
struct dm_db;
struct dm_lease;
struct dm_metrics;
struct dm_sql_names;

/*
 * The modules never call into the daemon: what they need to ask, and what
 * they have to tell, goes through these hooks, so that a test can run a
 * module against fakes (tests/check_pass.c, check_outbox.c, check_http.c).
 * Every hook is called from the event loop; owner is given back to each.
 */
struct dm_hooks {
    void *owner;
    /* Work done *to* subscribers must wait (SIGUSR1, or dormantctl pause). */
    bool (*paused)(void *owner);
    /* Nothing may be written (dry_run in the file, or --dry-run). */
    bool (*dry_run)(void *owner);
    /* The pass read control.paused (dormantctl pause) from the database. */
    void (*db_paused)(void *owner, bool paused);
    /* A pass ended (ok false when it failed); summary is a short
     * "requested=3 reminded=1 ..." line. */
    void (*pass_finished)(void *owner, bool ok, const char *summary);
    /* --once: the outbox has nothing due left to send. */
    void (*outbox_drained)(void *owner);
    /* A module cannot go on: stop with this exit code. */
    void (*fatal)(void *owner, int exit_code);
};

/* A module's world: its loop, its connection, the configuration in force
 * (each module's _reconfigure takes the next one), its counters. */
struct dm_env {
    struct event_base *base;
    struct dm_db *db;                 /* the module's own connection */
    const struct dm_config *cfg;      /* replaced by _reconfigure */
    const struct dm_sql_names *names; /* cfg's names; replaced with it */
    struct dm_metrics *metrics;       /* counters the module keeps */
    bool once;                        /* --once: one pass, deliver what is due, exit */
    struct dm_lease *lease;           /* this instance in the database (lib/lease.h); the
                                       * pass makes its own when NULL */
    struct dm_hooks hooks;
};

#endif
