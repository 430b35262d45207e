/* The daemon's one context: event base, signals, reload, graceful stop. */
#include "daemon.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "env.h"
#include "http.h"
#include "lease.h"
#include "log.h"
#include "outbox.h"
#include "pass.h"
#include "sdnotify.h"
#include "smtp_probe.h"
#include "util.h"
#include "validate.h"

/* How long a graceful stop waits for deliveries and the statement in flight. */
#define STOP_GRACE_MS 10000
#define STOP_TICK_MS  50

enum { SIG_HUP, SIG_TERM, SIG_INT, SIG_USR1, SIG_USR2 };

void dm_daemon_status(struct dm_daemon *d, const char *summary)
{
    char line[512];
    (void)d;
    snprintf(line, sizeof line, "STATUS=%s", summary);
    dm_sdnotify(line);
}

/* Applies the logging part of cfg; -v keeps debug on across reloads. */
static bool apply_logging(const struct dm_daemon *d, const struct dm_config *cfg, char *err,
                          size_t errlen)
{
    struct dm_log_settings ls = dm_config_log_settings(cfg, "dormantd");
    if (!dm_log_configure(&ls, err, errlen))
        return false;
    dm_log_force_debug(d->opt.verbose);
    dm_log_forget_secrets();
    dm_config_register_secrets(cfg);
    return true;
}

/* What would make every e-mail fail, said once at start and reload, naming
 * the key: the configured server lacks what email.starttls requires. */
static void probe_smtp(const struct dm_config *cfg)
{
    char why[512];
    switch (dm_smtp_probe(cfg, 3000, why, sizeof why)) {
    case DM_PROBE_NO_STARTTLS:
        dm_log_error("e-mail cannot be delivered: fix email.starttls or the SMTP server",
                     DM_S("detail", why));
        break;
    case DM_PROBE_UNREACHABLE:
        dm_log_warning("email.starttls not checked", DM_S("detail", why));
        break;
    case DM_PROBE_OK:
        break;
    }
}

/* Logs, at debug level, the settings an operator most often wants to confirm
 * after a start or reload. */
static void log_settings(const struct dm_daemon *d)
{
    const struct dm_config *c = d->cfg;
    char poll[80], inactive[80];
    dm_interval_human(&c->limits.poll_interval, poll, sizeof poll);
    dm_interval_human(&c->policy.inactive_after, inactive, sizeof inactive);
    dm_log_debug("configuration in force", DM_S("source", c->source.table),
                 DM_S("schema", c->database.schema), DM_S("inactive_after", inactive),
                 DM_S("poll_interval", poll), DM_I("batch_size", c->limits.batch_size),
                 DM_B("webhook", c->webhook.url[0] != '\0'),
                 DM_B("email", c->email.smtp_url[0] != '\0'));
}

/* Puts next (checked) in force, unless its log destination does not open. */
static void finish_reload(struct dm_daemon *d, struct dm_config *next, struct dm_sql_names *names)
{
    char err[1024];
    if (!dm_pass_check_config(d->pass, next, err, sizeof err) ||
        !apply_logging(d, next, err, sizeof err)) {
        dm_log_error("configuration rejected, keeping the previous one", DM_S("error", err));
        dm_sql_names_free(names);
        dm_config_free(next);
        dm_sdnotify("READY=1");
        return;
    }
    struct dm_config *old = d->cfg;
    d->cfg = next;
    dm_sql_names_free(&d->names);
    d->names = *names;
    dm_db_set_conninfo(d->db_pass, next->database.conninfo);
    dm_db_set_conninfo(d->db_outbox, next->database.conninfo);
    dm_db_set_conninfo(d->db_http, next->database.conninfo);
    dm_pass_reconfigure(d->pass, d->cfg, &d->names);
    dm_outbox_reconfigure(d->outbox, d->cfg, &d->names);
    if (d->http)
        dm_http_reconfigure(d->http, d->cfg, &d->names);
    dm_config_free(old);
    dm_log_info("configuration reloaded", DM_S("config", d->cfg->path),
                DM_S("log_level", dm_log_level_name(d->cfg->log.level)),
                DM_B("dry_run", dm_daemon_dry_run(d)));
    log_settings(d);
    probe_smtp(d->cfg);
    dm_sdnotify("READY=1");
}

/* A reloaded configuration waiting for the database's verdict. */
struct dm_reload_check {
    struct dm_daemon *d;
    struct dm_config *next;
    struct dm_sql_names names;
    bool superseded; /* another SIGHUP came, or the daemon is going away */
};

static void reload_checked(void *arg, enum dm_validate_outcome outcome, const char *err)
{
    struct dm_reload_check *rc = arg;
    struct dm_daemon *d = rc->d;
    if (rc->superseded || outcome == DM_INVALID) {
        if (!rc->superseded) {
            d->reload_check = NULL;
            dm_log_error("configuration rejected, keeping the previous one", DM_S("error", err));
            dm_sdnotify("READY=1");
        }
        dm_sql_names_free(&rc->names);
        dm_config_free(rc->next);
        free(rc);
        return;
    }
    /* Valid, or the database could not say (the pass checks it again
     * before its next statement). */
    d->reload_check = NULL;
    finish_reload(d, rc->next, &rc->names);
    free(rc);
}

/* SIGHUP: builds a new configuration and swaps it in only when it is
 * valid, fits the database (source.table and the columns it was migrated
 * for, source.eligible: asked first when the connection is up and the
 * database stays the same) and its log destination opens; otherwise the
 * old one stays in force. */
static void reload(struct dm_daemon *d)
{
    char err[1024];

    dm_sdnotify_reloading();
    dm_log_reopen();
    struct dm_config *next = dm_config_load(d->opt.config_path, err, sizeof err);
    if (next == NULL) {
        dm_log_error("configuration rejected, keeping the previous one", DM_S("error", err));
        dm_sdnotify("READY=1");
        return;
    }
    struct dm_sql_names names;
    if (!dm_sql_names_build(&names, next, err, sizeof err)) {
        dm_log_error("configuration rejected, keeping the previous one", DM_S("error", err));
        dm_config_free(next);
        dm_sdnotify("READY=1");
        return;
    }
    if (d->reload_check) {
        d->reload_check->superseded = true;
        d->reload_check = NULL;
    }
    if (strcmp(next->database.conninfo, d->cfg->database.conninfo) == 0) {
        struct dm_reload_check *rc = calloc(1, sizeof *rc);
        if (rc == NULL)
            abort();
        rc->d = d;
        rc->next = next;
        rc->names = names;
        if (dm_validate_start(d->db_pass, next, &rc->names, reload_checked, rc)) {
            d->reload_check = rc;
            return; /* READY=1 once the database has answered */
        }
        free(rc);
    }
    finish_reload(d, next, &names);
}

/* True once nothing is in flight that a graceful stop should wait for. */
static bool quiet(const struct dm_daemon *d)
{
    return !dm_pass_busy(d->pass) && dm_outbox_inflight(d->outbox) == 0 &&
           (d->http == NULL || dm_http_inflight(d->http) == 0);
}

static void stop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dm_daemon *d = arg;
    if (quiet(d)) {
        dm_log_info("stopped", DM_I("exit_code", d->exit_code));
        event_base_loopexit(d->base, NULL);
        return;
    }
    if (dm_now_ms() >= d->stop_deadline_ms) {
        dm_log_warning("stop: gave up waiting for work in flight; it will be retried",
                       DM_I("deliveries", dm_outbox_inflight(d->outbox)),
                       DM_B("pass_statement", dm_pass_busy(d->pass)));
        event_base_loopexit(d->base, NULL);
        return;
    }
    struct timeval tv = {0, STOP_TICK_MS * 1000};
    evtimer_add(d->stop_tick, &tv);
}

void dm_daemon_stop(struct dm_daemon *d, int exit_code)
{
    if (d->stopping)
        return;
    d->stopping = true;
    d->exit_code = exit_code;
    dm_sdnotify("STOPPING=1");
    dm_pass_stop(d->pass);
    dm_outbox_stop(d->outbox);
    if (d->http)
        dm_http_stop(d->http);
    if (d->watchdog)
        evtimer_del(d->watchdog);
    d->stop_deadline_ms = dm_now_ms() + STOP_GRACE_MS;
    stop_tick_cb(-1, 0, d);
}

/* Tells the database at once of this instance's own pause (dormantctl
 * status), on the page's connection: the pass's may be busy. The poll
 * repeats it anyway. */
static void report_now(struct dm_daemon *d)
{
    if (!d->stopping && dm_db_up(d->db_http) &&
        !dm_lease_poll(d->lease, d->db_http, d->cfg, &d->names, dm_daemon_dry_run(d), false, NULL,
                       NULL))
        dm_log_debug("cannot report the pause now; the next poll will");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct dm_daemon *d = arg;

    switch (sig) {
    case SIGHUP:
        dm_log_info("SIGHUP: reloading configuration");
        reload(d);
        break;
    case SIGTERM:
    case SIGINT:
        if (d->stopping) {
            dm_log_warning("second stop signal: exiting now", DM_S("signal", strsignal(sig)));
            /* Whatever transaction was in flight is rolled back by PostgreSQL
             * when the connection closes; undelivered messages stay due. */
            _exit(d->exit_code);
        }
        dm_log_info("stopping", DM_S("signal", strsignal(sig)),
                    DM_I("deliveries_in_flight", dm_outbox_inflight(d->outbox)));
        dm_daemon_stop(d, DM_EXIT_OK);
        break;
    case SIGUSR1:
        d->paused_local = true;
        dm_log_info("paused by SIGUSR1: no requests, reminders, suspensions, erasures or "
                    "deliveries until SIGUSR2");
        report_now(d);
        break;
    case SIGUSR2:
        d->paused_local = false;
        dm_log_info("resumed by SIGUSR2", DM_B("still_paused_in_database", d->paused_db));
        if (!d->stopping)
            dm_outbox_kick(d->outbox);
        report_now(d);
        break;
    }
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    dm_sdnotify("WATCHDOG=1");
}

void dm_daemon_pass_finished(struct dm_daemon *d, bool ok, const char *summary)
{
    dm_daemon_status(d, summary);
    if (!d->opt.once || d->once_pass_done)
        return;
    d->once_pass_done = true;
    d->once_pass_ok = ok;
    if (!ok) {
        dm_daemon_stop(d, DM_EXIT_FAILURE);
        return;
    }
    dm_outbox_kick(d->outbox);
}

void dm_daemon_outbox_drained(struct dm_daemon *d)
{
    if (d->opt.once && d->once_pass_done)
        dm_daemon_stop(d, d->once_pass_ok ? DM_EXIT_OK : DM_EXIT_FAILURE);
}

/* The hooks the modules answer through (lib/env.h). */
static bool hook_paused(void *owner)
{
    return dm_daemon_paused(owner);
}

static bool hook_dry_run(void *owner)
{
    return dm_daemon_dry_run(owner);
}

static void hook_db_paused(void *owner, bool paused)
{
    struct dm_daemon *d = owner;
    d->paused_db = paused;
}

static void hook_pass_finished(void *owner, bool ok, const char *summary)
{
    dm_daemon_pass_finished(owner, ok, summary);
}

static void hook_outbox_drained(void *owner)
{
    dm_daemon_outbox_drained(owner);
}

static void hook_fatal(void *owner, int exit_code)
{
    dm_daemon_stop(owner, exit_code);
}

/* What this instance says of itself at each report (lib/lease.h). */
static void report_cb(void *owner, struct dm_lease_report *r)
{
    struct dm_daemon *d = owner;
    r->paused = d->paused_local;
    r->webhook_disabled = d->outbox != NULL && dm_outbox_webhook_disabled(d->outbox);
}

/* A module's world: the loop, its connection, the configuration, the hooks. */
static struct dm_env env_for(struct dm_daemon *d, struct dm_db *db)
{
    return (struct dm_env){
        .base = d->base,
        .db = db,
        .cfg = d->cfg,
        .names = &d->names,
        .metrics = &d->metrics,
        .once = d->opt.once,
        .lease = d->lease,
        .hooks =
            {
                .owner = d,
                .paused = hook_paused,
                .dry_run = hook_dry_run,
                .db_paused = hook_db_paused,
                .pass_finished = hook_pass_finished,
                .outbox_drained = hook_outbox_drained,
                .fatal = hook_fatal,
            },
    };
}

static void on_pass_db_state(void *arg, bool up)
{
    struct dm_daemon *d = arg;
    d->metrics.db_up = up;
}

/* The signals that only ask something of a running daemon. */
static void control_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
}

void dm_daemon_hold_signals(void)
{
    sigset_t set;
    control_signals(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int dm_daemon_init(struct dm_daemon *d, const struct dm_options *opt, struct dm_config *cfg)
{
    static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    char err[1024];

    memset(d, 0, sizeof *d);
    d->opt = *opt;
    d->cfg = cfg;
    if (!apply_logging(d, cfg, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", cfg->path, err);
        return DM_EXIT_CONFIG;
    }
    if (!dm_sql_names_build(&d->names, cfg, err, sizeof err)) {
        dm_log_error("configuration rejected", DM_S("config", cfg->path), DM_S("error", err));
        return DM_EXIT_CONFIG;
    }
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)(getpid() ^ time(NULL)));

    d->base = event_base_new();
    if (d->base == NULL) {
        dm_log_error("cannot create the event loop");
        return DM_EXIT_FAILURE;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        d->signals[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
        evsignal_add(d->signals[i], NULL);
    }
    sigset_t held;
    control_signals(&held);
    sigprocmask(SIG_UNBLOCK, &held, NULL);
    d->stop_tick = evtimer_new(d->base, stop_tick_cb, d);

    d->db_pass = dm_db_new(d->base, "pass", cfg->database.conninfo);
    d->db_outbox = dm_db_new(d->base, "outbox", cfg->database.conninfo);
    d->db_http = dm_db_new(d->base, "http", cfg->database.conninfo);
    dm_db_on_state(d->db_pass, on_pass_db_state, d);
    d->lease = dm_lease_new(report_cb, d);

    if (!opt->once) {
        struct dm_env env = env_for(d, d->db_http);
        d->http = dm_http_new(&env, err, sizeof err);
        if (d->http == NULL) {
            dm_log_error("cannot serve HTTP", DM_S("listen", cfg->http.listen), DM_S("error", err));
            return DM_EXIT_FAILURE;
        }
    }
    struct dm_env pass_env = env_for(d, d->db_pass), outbox_env = env_for(d, d->db_outbox);
    d->pass = dm_pass_new(&pass_env);
    d->outbox = dm_outbox_new(&outbox_env);

    uint64_t wd = dm_sdnotify_watchdog_usec();
    if (wd > 0) {
        struct timeval tv = {(time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000)};
        d->watchdog = event_new(d->base, -1, EV_PERSIST, watchdog_cb, d);
        event_add(d->watchdog, &tv);
    }

    dm_db_start(d->db_pass);
    dm_db_start(d->db_outbox);
    dm_db_start(d->db_http);
    dm_log_info("started", DM_S("version", DM_VERSION), DM_S("config", cfg->path),
                DM_S("listen", opt->once ? "" : cfg->http.listen), DM_B("once", opt->once),
                DM_B("dry_run", dm_daemon_dry_run(d)), DM_I("pid", getpid()));
    log_settings(d);
    probe_smtp(cfg);
    dm_sdnotify("READY=1");
    return DM_EXIT_OK;
}

int dm_daemon_run(struct dm_daemon *d)
{
    event_base_dispatch(d->base);
    return d->exit_code;
}

void dm_daemon_cleanup(struct dm_daemon *d)
{
    /* Connections first: their queued statements are called back (with
     * NULL) while every module those callbacks belong to still exists. A
     * reload waiting for its check is dropped. */
    if (d->reload_check) {
        d->reload_check->superseded = true;
        d->reload_check = NULL;
    }
    dm_db_close(d->db_pass);
    dm_db_close(d->db_outbox);
    dm_db_close(d->db_http);
    if (d->pass)
        dm_pass_free(d->pass);
    if (d->lease)
        dm_lease_free(d->lease);
    if (d->outbox)
        dm_outbox_free(d->outbox);
    if (d->http)
        dm_http_free(d->http);
    dm_db_free(d->db_pass);
    dm_db_free(d->db_outbox);
    dm_db_free(d->db_http);
    for (size_t i = 0; i < sizeof d->signals / sizeof d->signals[0]; i++)
        if (d->signals[i])
            event_free(d->signals[i]);
    if (d->watchdog)
        event_free(d->watchdog);
    if (d->stop_tick)
        event_free(d->stop_tick);
    if (d->base)
        event_base_free(d->base);
    dm_sql_names_free(&d->names);
    dm_config_free(d->cfg);
    d->cfg = NULL;
}
