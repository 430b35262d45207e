/* The lifecycle pass: guards, resume, request, remind, suspend, erase. */
#include "pass.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "clock.h"
#include "db.h"
#include "env.h"
#include "guards.h"
#include "lease.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "nullcheck.h"
#include "sql.h"
#include "util.h"
#include "validate.h"

/* How often to look again while waiting for the database to come up. */
#define WAIT_TICK_MS 500
/* --once gives up when the database stays unreachable this long. */
#define ONCE_CONNECT_TIMEOUT_MS 30000
/* Reactivation pages per pass (each limits.batch_size suspended accounts):
 * bounds the work of an idle pass whatever the number of suspended. */
#define REACTIVATE_PAGES 10

/* What the pass is doing. */
enum phase {
    PH_IDLE,     /* waiting for the next tick */
    PH_CHECK,    /* the configuration checked against the database (lib/validate.c) */
    PH_CLOCK,    /* reading the source's time column types (promise 2) */
    PH_SETUP,    /* a look at the schema, and the control row's configuration */
    PH_LOCK,     /* polling the scanning lease (report, take or renew) */
    PH_GUARDS,   /* reading the guards */
    PH_ELIGIBLE, /* counting eligible subscribers for the backlog guard */
    PH_STEP,     /* running a lifecycle step */
    PH_FINISH,   /* recording the pass in the control row */
};

/*
 * A pass runs on one configuration from its first statement to its last:
 * env.cfg (a reference of its own, so a reload cannot free it) and the
 * statements lc built from it. A reload only hands over next_cfg; the pass
 * takes it up when no statement of it is in flight (adopt_config(), called
 * by tick()), so the new configuration applies from the next pass.
 */
struct dm_pass {
    struct dm_env env;                /* loop, connection, configuration, counters, hooks */
    char last_done[128];              /* the last pass's state, to log an idle repeat at debug */
    struct dm_lifecycle lc;           /* statements for env.cfg */
    bool lc_ok;                       /* lc was built */
    const struct dm_config *next_cfg; /* a reload's, taken up once idle (owned reference) */
    /* One clock (clock.h): the statements read the source's time columns
     * as their types say, known once set-up has read them. */
    struct dm_sql_names names; /* env.names plus the clock, for lc */
    bool names_ok;             /* names was built */
    bool clock_known;          /* clock_type and clock_server_tz were read */
    bool ready_once;           /* set up once: later errors no longer stop the daemon */
    char clock_type[2][64];    /* the types of last_activity_at and created_at, as read */
    char clock_cols[2][128];   /* the column names they were read for */
    char clock_server_tz[64];  /* the server's TimeZone, for error messages */
    struct event *timer;       /* next tick */
    enum phase phase;          /* PH_IDLE unless a statement is out */
    bool up;                   /* env.db is connected */
    bool setup_done;           /* session and control set up since the last connect/reload */
    bool checked;           /* the configuration fits the database, since the last connect/reload */
    bool ever_checked;      /* it did once: a later misfit does not stop the daemon */
    bool nulls_checked;     /* source.eligible looked at for NULLs under this configuration */
    bool reported_check;    /* the misfit was logged */
    bool leader;            /* this instance holds the scanning lease */
    bool stopped;           /* dm_pass_stop() was called */
    bool in_pass;           /* a pass is in progress */
    bool once_done;         /* --once: the one pass has finished */
    int64_t wait_since_ms;  /* --once: when waiting for the database began */
    bool reported_setup;    /* the setup error was logged (once per outage) */
    struct dm_lease *lease; /* env.lease, or own_lease */
    struct dm_lease *own_lease; /* made here when env.lease is NULL (tests) */
    bool releasing;             /* the lease's release is in flight (graceful stop) */
    bool standing_by;           /* the last poll found another instance leading */
    /* The fenced transaction in flight (lib/lease.h): its statement's
     * result, kept until COMMIT answers, and what to call then. */
    dm_db_result_fn fenced_fn;
    PGresult *fenced_res; /* a copy of the statement's result; NULL = none */
    char fenced_err[512]; /* the fence's or the statement's error ("" = none) */
    bool fence_lost;      /* the fence said the lease is no longer ours */
    /* The pass in progress. */
    int64_t started_ms;
    struct dm_guards g;
    enum dm_step step;              /* step running */
    int rounds;                     /* statements of this step so far */
    int idle_rounds;                /* consecutive batches that moved nothing and were not done */
    long long moved[DM_STEP_COUNT]; /* transitions (or, in a dry run, would-be ones) */
    long long swept;                /* source rows the sweep examined */
    long long found;                /* of them, due: marked for the next pass's requests */
    int64_t sweep_ms;               /* time the sweep's statements took (it is measured apart) */
    int64_t step_started_ms;        /* when the running step's statement was sent */
    char *mark_ts[3];               /* watermarks (inactive, never active, activity); NULL = none */
    char *mark_id[3];               /* the request ones' id tie-breaks */
};

static void tick(struct dm_pass *p);
static void adopt_config(struct dm_pass *p);

static bool paused(const struct dm_pass *p)
{
    return p->env.hooks.paused(p->env.hooks.owner);
}

static bool dry_run(const struct dm_pass *p)
{
    return p->env.hooks.dry_run(p->env.hooks.owner);
}

/* The pass read control.paused: the owner keeps it for every module. */
static void db_paused(const struct dm_pass *p, bool on)
{
    p->env.hooks.db_paused(p->env.hooks.owner, on);
}

static void next_step(struct dm_pass *p, enum dm_step from);

static void schedule(struct dm_pass *p, int64_t ms)
{
    if (p->stopped)
        return;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

static int64_t poll_ms(const struct dm_pass *p)
{
    int64_t ms = dm_interval_ms(&p->env.cfg->limits.poll_interval);
    return ms > 0 ? ms : 1000;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    tick(arg);
}

static void lease_lost(struct dm_pass *p, const char *why);
static void end_pass(struct dm_pass *p, const char *cause);

static void fence_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    if (dm_db_ok(res))
        return;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    p->fence_lost = state != NULL && strcmp(state, DM_LEASE_LOST_SQLSTATE) == 0;
    snprintf(p->fenced_err, sizeof p->fenced_err, "%s", dm_db_error(res));
}

static void fenced_stmt_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    if (p->fenced_err[0] != '\0')
        return; /* the fence failed: this is "transaction aborted" */
    if (!dm_db_ok(res)) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(p->fenced_err, sizeof p->fenced_err, "%s%s%s%s", dm_db_error(res),
                 state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
        return;
    }
    p->fenced_res = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (p->fenced_res == NULL)
        snprintf(p->fenced_err, sizeof p->fenced_err, "out of memory");
}

/* COMMIT answered: only now does the pass learn what its statement did. */
static void fenced_commit_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    dm_db_result_fn fn = p->fenced_fn;
    PGresult *kept = p->fenced_res;
    char err[512];
    bool lost = p->fence_lost;
    snprintf(err, sizeof err, "%s", p->fenced_err);
    p->fenced_res = NULL;
    p->fenced_err[0] = '\0';
    p->fence_lost = false;
    p->fenced_fn = NULL;
    /* An aborted transaction answers COMMIT with the tag ROLLBACK. */
    if (err[0] == '\0' && (!dm_db_ok(res) || PQcmdStatus(res)[0] != 'C'))
        snprintf(err, sizeof err, "%s",
                 dm_db_ok(res) ? "the transaction was rolled back" : dm_db_error(res));
    if (err[0] != '\0') {
        PQclear(kept);
        if (lost)
            lease_lost(p, err);
        if (p->in_pass)
            end_pass(p, lost ? "lost the scanning lease: nothing of this step was committed" : err);
        else
            p->phase = PH_IDLE;
        return;
    }
    fn(p, kept);
    PQclear(kept);
}

/* Sends sql as one transaction of the pass: begin (settings for this
 * transaction, and the lease's fence unless in a dry run), sql, COMMIT.
 * fn gets sql's result once COMMIT answered. False when the connection is
 * down. */
static bool send_fenced(struct dm_pass *p, const char *sql, int nparams, const char *const *values,
                        dm_db_result_fn fn)
{
    const struct dm_env *e = &p->env;
    char *begin = dm_lease_begin(p->lease, e->cfg, e->names, !dry_run(p));
    p->fenced_fn = fn;
    p->fenced_err[0] = '\0';
    p->fence_lost = false;
    bool sent = dm_db_send(e->db, begin, 0, NULL, fence_cb, p);
    free(begin);
    if (!sent)
        return false;
    /* Queued behind the begin on an open connection: refused only if it
     * closed in between, and then the begin is called back with NULL. */
    if (!dm_db_send(e->db, sql, nparams, values, fenced_stmt_cb, p))
        snprintf(p->fenced_err, sizeof p->fenced_err, "connection lost");
    return dm_db_send(e->db, dm_sql(DM_SQL_TX_COMMIT), 0, NULL, fenced_commit_cb, p);
}

/* Sends st with the configuration's values and the call's: limit and, for
 * a request step, its watermark; false (pass failed) when the connection
 * is down. */
static bool send_stmt(struct dm_pass *p, const struct dm_stmt *st, long limit, int mark,
                      dm_db_result_fn fn)
{
    const char *values[DM_P_COUNT];
    char limit_buf[32];
    const struct dm_lc_call call = {
        .limit = limit,
        .mark_ts = mark >= 0 ? p->mark_ts[mark] : NULL,
        .mark_id = mark >= 0 ? p->mark_id[mark] : NULL,
        .write = !dry_run(p),
        .first = p->rounds == 0,
    };
    dm_lifecycle_params(&p->lc, st, &call, limit_buf, sizeof limit_buf, values);
    return send_fenced(p, st->sql, st->nparams, values, fn);
}

/* Replaces one watermark (k: 0 inactive, 1 never active, 2 activity) with
 * res's columns ts_col and ts_col + 1 (the id, when res has that column). */
static void set_mark(struct dm_pass *p, int k, const PGresult *res, int ts_col)
{
    free(p->mark_ts[k]);
    free(p->mark_id[k]);
    p->mark_ts[k] = p->mark_id[k] = NULL;
    if (!PQgetisnull(res, 0, ts_col) &&
        (p->mark_ts[k] = strdup(PQgetvalue(res, 0, ts_col))) == NULL)
        abort();
    if (ts_col + 1 < PQnfields(res) && !PQgetisnull(res, 0, ts_col + 1) &&
        (p->mark_id[k] = strdup(PQgetvalue(res, 0, ts_col + 1))) == NULL)
        abort();
}

static long long ival(const PGresult *res, int col, long long dflt)
{
    return PQgetisnull(res, 0, col) ? dflt : atoll(PQgetvalue(res, 0, col));
}

static bool bval(const PGresult *res, int col)
{
    return !PQgetisnull(res, 0, col) && PQgetvalue(res, 0, col)[0] == 't';
}

/* The summary line's counts: name=value for each transition kind. */
static void summary(const struct dm_pass *p, char *buf, size_t len, long long ms)
{
    long long requested = p->moved[DM_STEP_REQUEST_RECHECK] + p->moved[DM_STEP_REQUEST_INACTIVE] +
                          p->moved[DM_STEP_REQUEST_NEVER];
    snprintf(buf, len,
             "%srequested=%lld reminded=%lld resumed=%lld suspended=%lld reactivated=%lld "
             "erased=%lld duration_ms=%lld",
             dry_run(p) ? "dry_run " : "", requested, p->moved[DM_STEP_REMIND],
             p->moved[DM_STEP_RESUME], p->moved[DM_STEP_SUSPEND], p->moved[DM_STEP_REACTIVATE],
             p->moved[DM_STEP_ERASE], ms);
}

/* Brings the caller's part of the guards up to date: a pause or a reload
 * may come in the middle of a pass. */
static void refresh_guards(struct dm_pass *p)
{
    p->g.paused = paused(p);
    p->g.dry_run = dry_run(p);
}

static void finish_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    p->phase = PH_IDLE;
    if (!dm_db_ok(res))
        dm_log_warning("cannot record the pass in the control row",
                       DM_S("error", dm_db_error(res)));
}

/* Ends the pass: logs, counts, records it in the control row (unless dry
 * run), tells the daemon, and schedules the next. cause is NULL on success. */
static void end_pass(struct dm_pass *p, const char *cause)
{
    const struct dm_env *e = &p->env;
    long long ms = dm_now_ms() - p->started_ms;
    char line[600], gj[1024];
    bool ok = cause == NULL;
    long long requested = p->moved[DM_STEP_REQUEST_RECHECK] + p->moved[DM_STEP_REQUEST_INACTIVE] +
                          p->moved[DM_STEP_REQUEST_NEVER];

    if (ok) {
        summary(p, line, sizeof line, ms);
        e->metrics->passes++;
        e->metrics->last_pass_seconds = (double)ms / 1000.0;
        e->metrics->last_pass_unix = (double)time(NULL);
        /* An idle pass like the last one is no news: debug, so that a quiet
         * daemon does not write a line every poll. */
        char key[128];
        snprintf(key, sizeof key, "%d %d %d %d %lld", paused(p), dry_run(p), p->g.stale,
                 p->g.backlog_tripped, p->g.backlog);
        long long moved = p->found;
        for (int s = 0; s < DM_STEP_COUNT; s++)
            moved += p->moved[s];
        enum dm_log_level level =
            moved > 0 || strcmp(key, p->last_done) != 0 ? DM_LOG_INFO : DM_LOG_DEBUG;
        snprintf(p->last_done, sizeof p->last_done, "%s", key);
        dm_log(level, "pass done", DM_I("requested", requested),
               DM_I("reminded", p->moved[DM_STEP_REMIND]),
               DM_I("resumed", p->moved[DM_STEP_RESUME]),
               DM_I("suspended", p->moved[DM_STEP_SUSPEND]),
               DM_I("reactivated", p->moved[DM_STEP_REACTIVATE]),
               DM_I("erased", p->moved[DM_STEP_ERASE]),
               DM_I("withdrawn", p->moved[DM_STEP_WITHDRAW] + p->moved[DM_STEP_SWEEP]),
               DM_I("swept", p->swept), DM_I("found", p->found), DM_I("sweep_ms", p->sweep_ms),
               DM_I("backlog", p->g.backlog), DM_B("paused", paused(p)),
               DM_B("dry_run", dry_run(p)), DM_I("duration_ms", ms));
    } else {
        e->metrics->pass_failures++;
        dm_log_error("pass failed", DM_S("step", p->phase == PH_STEP ? dm_step_names[p->step] : ""),
                     DM_S("error", cause), DM_I("duration_ms", ms));
        snprintf(line, sizeof line, "failed: %s", cause);
    }
    p->in_pass = false;
    p->phase = PH_IDLE;

    if (!dry_run(p) && dm_db_up(e->db) && !p->stopped && p->leader) {
        char msstr[32], last[600];
        refresh_guards(p);
        /* Read at the start: this pass's own requests count too. */
        struct dm_guards now = p->g;
        now.requested_24h = (now.requested_24h < 0 ? 0 : now.requested_24h) + requested;
        dm_guards_json(&now, e->cfg, gj, sizeof gj);
        snprintf(msstr, sizeof msstr, "%lld", ms);
        snprintf(last, sizeof last,
                 "{\"requested\": %lld, \"reminded\": %lld, \"resumed\": %lld,"
                 " \"suspended\": %lld, \"reactivated\": %lld, \"erased\": %lld,"
                 " \"withdrawn\": %lld, \"swept\": %lld, \"found\": %lld,"
                 " \"backlog\": %lld, \"duration_ms\": %lld}",
                 requested, p->moved[DM_STEP_REMIND], p->moved[DM_STEP_RESUME],
                 p->moved[DM_STEP_SUSPEND], p->moved[DM_STEP_REACTIVATE], p->moved[DM_STEP_ERASE],
                 p->moved[DM_STEP_WITHDRAW] + p->moved[DM_STEP_SWEEP], p->swept, p->found,
                 p->g.backlog, ms);
        static const char *const names[] = {"ms", "outcome", "last", "guards", "spent", NULL};
        const char *vals[] = {msstr, ok ? "ok" : line, last, gj,
                              ok && p->g.backlog <= requested ? "true" : "false"};
        struct dm_stmt st;
        const char *bound[DM_SQL_MAX_PARAMS];
        dm_sql_render(&st, dm_sql(DM_SQL_PASS_FINISH), e->names, names);
        dm_stmt_bind(&st, vals, bound);
        bool sent = send_fenced(p, st.sql, st.nparams, bound, finish_cb);
        dm_stmt_free(&st);
        if (sent)
            p->phase = PH_FINISH;
    }
    if (!e->once)
        schedule(p, poll_ms(p));
    if (e->once)
        p->once_done = true;
    e->hooks.pass_finished(e->hooks.owner, ok, line);
}

/* Fails the pass with the database's reason. */
static void fail_pass(struct dm_pass *p, const PGresult *res)
{
    char cause[512];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(cause, sizeof cause, "%s%s%s%s", dm_db_error(res), state ? " (SQLSTATE " : "",
             state ? state : "", state ? ")" : "");
    end_pass(p, cause);
}

/* True when no guard holds the step back in this pass. */
static bool step_allowed(struct dm_pass *p, enum dm_step s)
{
    refresh_guards(p);
    return dm_guards_hold(&p->g, s) == DM_HOLD_NONE;
}

static bool is_request(enum dm_step s)
{
    return s == DM_STEP_REQUEST_RECHECK || s == DM_STEP_REQUEST_INACTIVE ||
           s == DM_STEP_REQUEST_NEVER;
}

static const enum dm_transition step_transition[DM_STEP_COUNT] = {
    [DM_STEP_RESCHEDULE] = DM_T_COUNT,
    [DM_STEP_RESUME] = DM_T_RESUMED,
    [DM_STEP_REACTIVATE] = DM_T_REACTIVATED,
    [DM_STEP_REQUEST_RECHECK] = DM_T_REQUESTED,
    [DM_STEP_REQUEST_INACTIVE] = DM_T_REQUESTED,
    [DM_STEP_REQUEST_NEVER] = DM_T_REQUESTED,
    [DM_STEP_REMIND] = DM_T_REMINDED,
    [DM_STEP_SUSPEND] = DM_T_SUSPENDED,
    [DM_STEP_ERASE] = DM_T_ERASED,
    [DM_STEP_WITHDRAW] = DM_T_WITHDRAWN,
    [DM_STEP_SWEEP] = DM_T_WITHDRAWN, /* and found, reactivated: see step_cb */
};

static void step_cb(void *arg, PGresult *res);
static void count_cb(void *arg, PGresult *res);

/* Sends the next statement of p->step. */
static void run_step(struct dm_pass *p)
{
    const struct dm_env *e = &p->env;
    const struct dm_lifecycle *lc = &p->lc;
    bool sent;

    if (p->stopped) {
        p->phase = PH_IDLE;
        p->in_pass = false;
        return;
    }
    /* The brake is read before every statement, not only between steps:
     * after SIGUSR1 (or a pause read from the database) no further batch
     * of a paused step is sent. */
    if (!step_allowed(p, p->step)) {
        dm_log_info("held back: the step stops here", DM_S("step", dm_step_names[p->step]),
                    DM_I("moved", p->moved[p->step]));
        next_step(p, p->step + 1);
        return;
    }
    p->phase = PH_STEP;
    p->step_started_ms = dm_now_ms();
    if (dry_run(p)) {
        sent = send_stmt(p, &lc->count[p->step], 0, -1, count_cb);
    } else {
        long limit = e->cfg->limits.batch_size;
        if (is_request(p->step) && p->g.remaining < limit)
            limit = (long)p->g.remaining;
        int k = p->step == DM_STEP_REQUEST_INACTIVE ? 0
                : p->step == DM_STEP_REQUEST_NEVER  ? 1
                : p->step == DM_STEP_RESUME         ? 2
                                                    : -1;
        sent = send_stmt(p, &lc->run[p->step], limit, k, step_cb);
    }
    if (!sent)
        end_pass(p, "connection lost");
}

static void count_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    if (!dm_db_ok(res)) {
        fail_pass(p, res);
        return;
    }
    long long n = ival(res, 0, 0);
    if (is_request(p->step) && n > p->g.remaining)
        n = p->g.remaining;
    if (p->step == DM_STEP_SWEEP)
        p->found = n; /* who it would find due, not withdrawals */
    else
        p->moved[p->step] = n;
    if (is_request(p->step))
        p->g.remaining -= n;
    if (n > 0)
        dm_log_info("dry run: would act", DM_S("step", dm_step_names[p->step]), DM_I("count", n));
    next_step(p, p->step + 1);
}

static void step_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    if (!dm_db_ok(res)) {
        fail_pass(p, res);
        return;
    }
    long long moved = ival(res, 0, 0);
    bool done = bval(res, 1);
    bool mark_stuck = false;
    /* The transition statements read the cluster-wide pause themselves and
     * move nobody once it has committed (the *_write.sql of lib/sql/lifecycle):
     * this instance learns of it here, mid-pass, and stops. */
    int paused_col = PQfnumber(res, "paused");
    bool braked = paused_col >= 0 && bval(res, paused_col);
    if (braked && !p->g.paused_db)
        dm_log_info("paused in the database (dormantctl pause): no requests, reminders, "
                    "suspensions, erasures or deliveries until resume",
                    DM_S("step", dm_step_names[p->step]));
    if (braked) {
        p->g.paused_db = true;
        db_paused(p, true);
    }
    if ((p->step == DM_STEP_REQUEST_INACTIVE || p->step == DM_STEP_REQUEST_NEVER) &&
        PQnfields(res) >= 5 && !braked) {
        int k = p->step == DM_STEP_REQUEST_INACTIVE ? 0 : 1;
        /* A watermark that does not move while rows remain would repeat
         * the same batch forever. */
        mark_stuck = !done && p->mark_ts[k] && !PQgetisnull(res, 0, 3) &&
                     strcmp(p->mark_ts[k], PQgetvalue(res, 0, 3)) == 0 &&
                     (p->mark_id[k] ? !PQgetisnull(res, 0, 4) &&
                                          strcmp(p->mark_id[k], PQgetvalue(res, 0, 4)) == 0
                                    : PQgetisnull(res, 0, 4));
        set_mark(p, k, res, 3);
    }
    if (p->step == DM_STEP_SWEEP)
        p->sweep_ms += dm_now_ms() - p->step_started_ms;
    if (p->step == DM_STEP_SWEEP && PQnfields(res) >= 6) {
        p->swept += ival(res, 3, 0);
        p->found += ival(res, 4, 0);
        p->moved[DM_STEP_REACTIVATE] += ival(res, 5, 0);
        e->metrics->transitions[DM_T_REACTIVATED] += (uint64_t)ival(res, 5, 0);
    }
    p->moved[p->step] += moved;
    p->rounds++;
    if (step_transition[p->step] != DM_T_COUNT)
        e->metrics->transitions[step_transition[p->step]] += (uint64_t)moved;
    if (is_request(p->step))
        p->g.remaining -= moved;
    if (moved > 0)
        dm_log_debug("batch", DM_S("step", dm_step_names[p->step]), DM_I("moved", moved),
                     DM_B("done", done));

    /* Steps that do not walk a watermark move every row they select, so a
     * batch that moves nothing yet is not done means rows changed under us:
     * leave them to the next pass rather than spin. */
    bool walks = p->step == DM_STEP_REQUEST_INACTIVE || p->step == DM_STEP_REQUEST_NEVER ||
                 p->step == DM_STEP_REACTIVATE || p->step == DM_STEP_RESCHEDULE ||
                 p->step == DM_STEP_SWEEP;
    p->idle_rounds = moved == 0 && !done ? p->idle_rounds + 1 : 0;
    bool stuck = (!walks && p->idle_rounds >= 2) || mark_stuck;
    if (stuck)
        dm_log_warning("step left unfinished: its rows changed during the pass",
                       DM_S("step", dm_step_names[p->step]));
    if (p->stopped) {
        p->phase = PH_IDLE;
        p->in_pass = false;
        return;
    }
    if (is_request(p->step) && p->g.remaining <= 0 && !done && !p->g.rate_tripped) {
        p->g.rate_tripped = true;
        e->metrics->guards[DM_GUARD_RATE] = true;
        dm_log_error("guard tripped: max_requests_per_day reached; the rest wait",
                     DM_I("max_requests_per_day", e->cfg->limits.max_requests_per_day));
    }
    if (done || stuck || (p->step == DM_STEP_REACTIVATE && p->rounds >= REACTIVATE_PAGES) ||
        (is_request(p->step) && p->g.remaining <= 0)) {
        next_step(p, p->step + 1);
        return;
    }
    run_step(p);
}

/* Moves on to the first step from `from` on that may run, or ends the pass. */
static void next_step(struct dm_pass *p, enum dm_step from)
{
    for (enum dm_step s = from; s < DM_STEP_COUNT; s++) {
        const struct dm_stmt *st = dry_run(p) ? &p->lc.count[s] : &p->lc.run[s];
        if (st->sql == NULL || !step_allowed(p, s))
            continue;
        p->step = s;
        p->rounds = 0;
        p->idle_rounds = 0;
        run_step(p);
        return;
    }
    end_pass(p, NULL);
}

/* Logs each tripped guard (every pass, as an operator must see it). */
static void report_guards(struct dm_pass *p)
{
    const struct dm_env *e = &p->env;
    const struct dm_guards *g = &p->g;
    e->metrics->guards[DM_GUARD_STALE_ACTIVITY] = g->stale;
    e->metrics->guards[DM_GUARD_BACKLOG] = g->backlog_tripped;
    e->metrics->guards[DM_GUARD_RATE] = g->rate_tripped;
    if (g->stale)
        dm_log_error("guard tripped: the activity feed is stale; no requests or suspensions",
                     DM_S("newest_activity", g->newest[0] ? g->newest : "none"),
                     DM_S("max_activity_lag", p->lc.values[DM_P_LAG]));
    if (g->backlog_tripped)
        dm_log_error("guard tripped: backlog too large; no requests until dormantctl "
                     "accept-backlog",
                     DM_I("backlog", g->backlog), DM_I("eligible", g->eligible),
                     DM_D("max_backlog_fraction", e->cfg->limits.max_backlog_fraction));
    if (g->rate_tripped)
        dm_log_error("guard tripped: max_requests_per_day reached; the rest wait",
                     DM_I("requested_24h", g->requested_24h),
                     DM_I("max_requests_per_day", e->cfg->limits.max_requests_per_day),
                     DM_I("backlog", g->backlog));
    if (paused(p))
        dm_log_info("paused: no requests, reminders, suspensions or erasures",
                    DM_B("paused_db", p->g.paused_db));
}

/* Decides the guards once the eligible count is known. */
static void backlog_decide(struct dm_pass *p)
{
    dm_guards_decide(&p->g, p->env.cfg);
    report_guards(p);
    next_step(p, DM_STEP_RESCHEDULE);
}

static void eligible_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    if (!dm_db_ok(res)) {
        fail_pass(p, res);
        return;
    }
    dm_guards_set_eligible(&p->g, ival(res, 0, 0));
    backlog_decide(p);
}

static void guards_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    if (!dm_db_ok(res) || PQntuples(res) != 1) {
        fail_pass(p, res);
        return;
    }
    dm_guards_read(&p->g, res);
    db_paused(p, p->g.paused_db);
    set_mark(p, 0, res, 8);
    set_mark(p, 1, res, 10);
    set_mark(p, 2, res, 12);
    if (p->g.rescanned)
        dm_log_info("rescan: the next requests look at the whole source table again");
    bool need_count = dm_guards_need_eligible(&p->g, e->cfg);
    if (need_count) {
        p->phase = PH_ELIGIBLE;
        if (!send_stmt(p, &p->lc.eligible, 0, -1, eligible_cb))
            end_pass(p, "connection lost");
        return;
    }
    backlog_decide(p);
}

static void start_pass(struct dm_pass *p)
{
    memset(&p->g, 0, sizeof p->g);
    memset(p->moved, 0, sizeof p->moved);
    p->swept = p->found = 0;
    p->sweep_ms = 0;
    p->in_pass = true;
    p->started_ms = dm_now_ms();
    p->phase = PH_GUARDS;
    p->step = DM_STEP_RESCHEDULE;
    if (!send_stmt(p, &p->lc.guards, 0, -1, guards_cb))
        end_pass(p, "connection lost");
}

/* The lease is no longer this instance's: stand by (the pass in flight,
 * if any, has committed nothing past the fence that refused). */
static void lease_lost(struct dm_pass *p, const char *why)
{
    if (p->leader)
        dm_log_warning("lost the scanning lease: another instance may run the passes",
                       DM_S("instance", dm_lease_id(p->lease)), DM_S("why", why));
    p->leader = false;
    p->env.metrics->leader = false;
    dm_lease_forget(p->lease);
}

/* --once beside a leader: one line naming it, exit 75 (DESIGN §3). */
static void once_beside_leader(struct dm_pass *p, const struct dm_lease_state *st)
{
    const struct dm_env *e = &p->env;
    char pid[32];
    snprintf(pid, sizeof pid, "%lld", st->pid);
    const char *host = st->host[0] ? st->host : "?", *pids = st->pid ? pid : "?";
    dm_log_error("--once: another instance holds the scanning lead; not running a pass",
                 DM_S("instance", st->holder), DM_S("host", host), DM_S("pid", pids),
                 DM_S("lease_until", st->expires));
    if (strcmp(e->cfg->log.destination, "stderr") != 0)
        fprintf(stderr,
                "dormantd: --once: another instance holds the scanning lead: instance=%s "
                "host=%s pid=%s (lease until %s)\n",
                st->holder, host, pids, st->expires);
    e->hooks.fatal(e->hooks.owner, DM_EXIT_TEMPFAIL);
}

static void lease_cb(void *arg, const struct dm_lease_state *st)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    bool dry = dry_run(p);
    p->phase = PH_IDLE;
    if (p->stopped)
        return;
    if (!st->ok) {
        if (strcmp(st->error, "connection lost") != 0)
            dm_log_error("cannot poll the scanning lease", DM_S("error", st->error));
        lease_lost(p, st->error);
        schedule(p, poll_ms(p));
        return;
    }
    /* Standing-by instances learn of dormantctl pause here, each poll
     * interval, so that their deliveries honour it too. */
    db_paused(p, st->paused_db);
    if (st->leader && (!p->leader || st->taken))
        dm_log_info("scanning leader: this instance runs the passes",
                    DM_S("leader", dm_lease_name(p->lease)),
                    DM_S("instance", dm_lease_id(p->lease)), DM_B("takeover", st->taken));
    else if (!st->leader && p->leader)
        lease_lost(p, "another instance took the lease over");
    else if (!st->leader && !dry && !p->standing_by && st->held)
        dm_log_info("another instance runs the passes; standing by",
                    DM_S("leader_instance", st->holder), DM_S("leader_host", st->host),
                    DM_I("leader_pid", st->pid));
    p->leader = st->leader;
    p->standing_by = !st->leader && st->held;
    e->metrics->leader = st->leader;
    /* A dry run writes nothing, so it needs no lease: its passes only read. */
    if (!st->leader && !dry) {
        if (e->once && st->held) {
            once_beside_leader(p, st);
            return;
        }
        /* Free but taken by another at the same moment: look again soon. */
        schedule(p, st->held ? poll_ms(p) : WAIT_TICK_MS);
        return;
    }
    start_pass(p);
}

/* The configuration against the database: source.table and the columns
 * the schema was migrated for, source.eligible planning. A misfit found at
 * start stops the daemon (exit 78, like any configuration error); found
 * later (a reload while the database was down) it holds the passes back
 * and is logged once. */
static void check_cb(void *arg, enum dm_validate_outcome outcome, const char *err)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    p->phase = PH_IDLE;
    switch (outcome) {
    case DM_VALID:
    case DM_MISSING: /* the setup says what to do */
        /* Once per configuration: rows source.eligible leaves out by a
         * NULL, a warning (lib/nullcheck.h), answered before the set-up. */
        if (outcome == DM_VALID && !p->nulls_checked)
            p->nulls_checked = dm_nullcheck_send(e->db, e->cfg, e->names);
        p->checked = true;
        p->ever_checked = p->ever_checked || outcome == DM_VALID;
        p->reported_check = false;
        tick(p);
        return;
    case DM_UNCHECKED:
        schedule(p, WAIT_TICK_MS);
        return;
    case DM_INVALID:
        break;
    }
    if (!p->reported_check || !p->ever_checked)
        dm_log_error("configuration error: it does not fit the database", DM_S("error", err));
    p->reported_check = true;
    if (!p->ever_checked) {
        e->hooks.fatal(e->hooks.owner, DM_EXIT_CONFIG);
        return;
    }
    schedule(p, poll_ms(p));
}

static void setup_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    p->phase = PH_IDLE;
    if (!dm_db_ok(res)) {
        if (res == NULL) {
            schedule(p, WAIT_TICK_MS);
            return;
        }
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool missing = state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0 ||
                                 strcmp(state, "42703") == 0);
        if (!p->reported_setup || e->once)
            dm_log_error(missing ? "the dormant schema is missing or old: run dormantctl migrate"
                                 : "cannot prepare the pass session",
                         DM_S("schema", e->cfg->database.schema), DM_S("error", dm_db_error(res)));
        p->reported_setup = true;
        p->checked = false; /* after migrate, check again */
        if (e->once) {
            e->hooks.fatal(e->hooks.owner, missing ? DM_EXIT_CONFIG : DM_EXIT_FAILURE);
            return;
        }
        schedule(p, poll_ms(p));
        return;
    }
    p->reported_setup = false;
    p->setup_done = true;
    p->ready_once = true;
    tick(p);
}

/* Sends the session settings and the control row's configuration; their
 * answer comes to setup_cb. */
static void send_setup(struct dm_pass *p)
{
    const struct dm_env *e = &p->env;
    struct dm_stmt session;
    dm_sql_render(&session, dm_sql(DM_SQL_PASS_SESSION), e->names, NULL);
    p->phase = PH_SETUP;
    bool ok;
    if (dry_run(p)) {
        ok = dm_db_send(e->db, session.sql, 0, NULL, setup_cb, p);
    } else {
        /* Not fenced: every instance writes the configuration it runs. */
        const char *values[DM_P_COUNT];
        char limit_buf[32];
        const struct dm_lc_call call = {.write = true};
        dm_lifecycle_params(&p->lc, &p->lc.setup, &call, limit_buf, sizeof limit_buf, values);
        ok = dm_db_send(e->db, session.sql, 0, NULL, NULL, NULL) &&
             dm_db_send(e->db, p->lc.setup.sql, p->lc.setup.nparams, values, setup_cb, p);
    }
    dm_stmt_free(&session);
    if (!ok) {
        p->phase = PH_IDLE;
        schedule(p, WAIT_TICK_MS);
    }
}

/* A configuration error found at set-up: fatal before the first pass (the
 * daemon's start refuses), logged at every attempt afterwards (after a
 * reload: the passes stop until the file is fixed). */
static void setup_refused(struct dm_pass *p, const char *err)
{
    const struct dm_env *e = &p->env;
    dm_log_error("configuration error: the passes stop until it is fixed",
                 DM_S("config", e->cfg->path), DM_S("error", err));
    if (!p->ready_once) {
        e->hooks.fatal(e->hooks.owner, DM_EXIT_CONFIG);
        return;
    }
    schedule(p, poll_ms(p));
}

/* The source's column types arrived: decide how to read them (a naive
 * column without source.timezone is a configuration error), build the
 * statements for them, then set the session up. The statements of a pass
 * in progress are never rebuilt: set-up happens between passes. */
static void clock_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    const struct dm_env *e = &p->env;
    char err[512];
    p->phase = PH_IDLE;
    if (!dm_db_ok(res) || PQntuples(res) != 1) {
        if (res != NULL)
            dm_log_error("cannot read the source's column types", DM_S("error", dm_db_error(res)));
        schedule(p, res == NULL ? WAIT_TICK_MS : poll_ms(p));
        return;
    }
    const char *types[2] = {PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
                            PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1)};
    struct dm_clock clock;
    if (!dm_clock_decide(e->cfg, types[0], types[1], PQgetvalue(res, 0, 2),
                         PQgetvalue(res, 0, 3)[0] == 't', &clock, err, sizeof err)) {
        setup_refused(p, err);
        return;
    }
    p->clock_known = true;
    for (int i = 0; i < 2; i++)
        snprintf(p->clock_type[i], sizeof p->clock_type[i], "%s", types[i]);
    snprintf(p->clock_cols[0], sizeof p->clock_cols[0], "%s", e->cfg->source.last_activity_at);
    snprintf(p->clock_cols[1], sizeof p->clock_cols[1], "%s", e->cfg->source.created_at);
    snprintf(p->clock_server_tz, sizeof p->clock_server_tz, "%s", PQgetvalue(res, 0, 2));

    struct dm_sql_names names;
    struct dm_lifecycle next;
    if (!dm_sql_names_build(&names, e->cfg, err, sizeof err)) {
        setup_refused(p, err);
        return;
    }
    dm_sql_names_set_clock(&names, e->cfg, &clock);
    if (!dm_lifecycle_build(e->cfg, &names, &next, err, sizeof err)) {
        dm_sql_names_free(&names);
        setup_refused(p, err);
        return;
    }
    if (p->names_ok)
        dm_sql_names_free(&p->names);
    p->names = names;
    p->names_ok = true;
    if (p->lc_ok)
        dm_lifecycle_free(&p->lc);
    p->lc = next;
    p->lc_ok = true;
    send_setup(p);
}

/* One step of the scheduler: connect-wait, set up, lead, pass. */
static void tick(struct dm_pass *p)
{
    const struct dm_env *e = &p->env;
    if (p->stopped || p->in_pass)
        return;
    if (p->phase == PH_FINISH) {
        schedule(p, WAIT_TICK_MS);
        return;
    }
    if (p->phase != PH_IDLE)
        return;
    adopt_config(p);
    evtimer_del(p->timer);
    if (!p->up || !dm_db_up(e->db)) {
        if (e->once) {
            if (p->wait_since_ms == 0)
                p->wait_since_ms = dm_now_ms();
            if (dm_now_ms() - p->wait_since_ms > ONCE_CONNECT_TIMEOUT_MS) {
                dm_log_error("--once: the database stayed unreachable; giving up");
                e->hooks.fatal(e->hooks.owner, DM_EXIT_UNAVAILABLE);
                return;
            }
        }
        schedule(p, WAIT_TICK_MS);
        return;
    }
    if (p->once_done)
        return;
    if (!p->checked) {
        p->phase = PH_CHECK;
        if (!dm_validate_start(e->db, e->cfg, e->names, check_cb, p)) {
            p->phase = PH_IDLE;
            schedule(p, WAIT_TICK_MS);
        }
        return;
    }
    if (!p->setup_done) {
        /* The columns' types first: the statements depend on them. */
        const char *values[4], *bound[DM_SQL_MAX_PARAMS];
        struct dm_stmt st;
        dm_clock_values(e->cfg, e->names->value[DM_N_SRC], values);
        dm_sql_render(&st, dm_sql(DM_SQL_SCHEMA_TIME_COLUMNS), e->names, dm_clock_params);
        dm_stmt_bind(&st, values, bound);
        p->phase = PH_CLOCK;
        bool sent = dm_db_send(e->db, st.sql, st.nparams, bound, clock_cb, p);
        dm_stmt_free(&st);
        if (!sent) {
            p->phase = PH_IDLE;
            schedule(p, WAIT_TICK_MS);
        }
        return;
    }
    if (!p->lc_ok)
        return;
    /* Every poll: report, and take or renew the lease (lib/lease.h). */
    p->phase = PH_LOCK;
    if (!dm_lease_poll(p->lease, e->db, e->cfg, e->names, dry_run(p), !dry_run(p), lease_cb, p)) {
        p->phase = PH_IDLE;
        schedule(p, WAIT_TICK_MS);
    }
}

static void on_db_state(void *arg, bool up)
{
    struct dm_pass *p = arg;
    p->up = up;
    if (!up) {
        /* The lease stays this instance's until it expires: the next
         * poll renews it if nobody took it over meanwhile. */
        p->setup_done = false;
        p->checked = false;
        p->leader = false;
        p->standing_by = false;
        p->env.metrics->leader = false;
        dm_lease_forget(p->lease);
        return;
    }
    p->wait_since_ms = 0;
    tick(p);
}

struct dm_pass *dm_pass_new(const struct dm_env *env)
{
    struct dm_pass *p = dm_xcalloc(1, sizeof *p);
    p->env = *env;
    p->env.cfg = dm_config_ref(env->cfg);
    p->timer = evtimer_new(env->base, timer_cb, p);
    /* The statements are built at set-up, once the column types are known. */
    p->lease = env->lease;
    if (p->lease == NULL)
        p->lease = p->own_lease = dm_lease_new(NULL, NULL);
    dm_db_on_state(env->db, on_db_state, p);
    schedule(p, 0);
    return p;
}

bool dm_pass_check_config(const struct dm_pass *p, const struct dm_config *next, char *err,
                          size_t errlen)
{
    if (!p->clock_known || strcmp(p->clock_cols[0], next->source.last_activity_at) != 0 ||
        strcmp(p->clock_cols[1], next->source.created_at) != 0)
        return true; /* other columns: checked when the next pass sets up */
    struct dm_clock clock;
    return dm_clock_decide(next, p->clock_type[0], p->clock_type[1], p->clock_server_tz, true,
                           &clock, err, errlen);
}

/* Takes up the reload's configuration; only while no statement of the pass
 * is in flight, so a pass ends on the configuration and statements it
 * started with. The next set-up reads the column types again and builds the
 * statements for the new configuration (clock_cb); the control row gets the
 * new confirm_within and reminders before the next pass. */
static void adopt_config(struct dm_pass *p)
{
    const struct dm_config *cfg = p->next_cfg;
    if (cfg == NULL)
        return;
    p->next_cfg = NULL;
    dm_config_unref(p->env.cfg);
    p->env.cfg = cfg;
    p->setup_done = false;
    p->checked = false;
    p->nulls_checked = false;
}

void dm_pass_reconfigure(struct dm_pass *p, const struct dm_config *cfg,
                         const struct dm_sql_names *names)
{
    if (p->next_cfg)
        dm_config_unref(p->next_cfg);
    p->next_cfg = dm_config_ref(cfg);
    p->env.names = names;
    if (!p->in_pass && p->phase == PH_IDLE)
        tick(p);
}

static void release_cb(void *arg, PGresult *res)
{
    struct dm_pass *p = arg;
    p->releasing = false;
    if (res != NULL && !dm_db_ok(res))
        dm_log_warning("cannot give the scanning lease up; it expires by itself",
                       DM_S("error", dm_db_error(res)));
}

void dm_pass_stop(struct dm_pass *p)
{
    p->stopped = true;
    evtimer_del(p->timer);
    /* After whatever is in flight: the lease ends now (another instance
     * takes over at its next poll) and the instance's row goes. */
    if (dm_db_up(p->env.db) && dm_lease_release(p->lease, p->env.db, p->env.names, release_cb, p))
        p->releasing = true;
    p->leader = false;
    p->env.metrics->leader = false;
}

bool dm_pass_busy(const struct dm_pass *p)
{
    return p->phase != PH_IDLE || p->releasing;
}

void dm_pass_free(struct dm_pass *p)
{
    if (p == NULL)
        return;
    event_free(p->timer);
    if (p->lc_ok)
        dm_lifecycle_free(&p->lc);
    dm_config_unref(p->env.cfg);
    if (p->next_cfg)
        dm_config_unref(p->next_cfg);
    if (p->names_ok)
        dm_sql_names_free(&p->names);
    for (int k = 0; k < 3; k++) {
        free(p->mark_ts[k]);
        free(p->mark_id[k]);
    }
    PQclear(p->fenced_res);
    dm_lease_free(p->own_lease);
    free(p);
}
