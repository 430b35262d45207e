/* The lifecycle rules as SQL: every statement a pass runs, built from the configuration. */
#include "lifecycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "interval.h"
#include "strbuf.h"

/*
 * The statements are the files of lib/sql/lifecycle/, composed here: a
 * request step is a candidate source, the decision and a tail (write,
 * preview or count); the other steps are a "due" part and a tail.
 *
 * Every writing statement moves one batch and its events and messages
 * together (data-modifying CTEs: one statement, one transaction), and
 * checks the state it moves from in its UPDATE, so that a batch repeated
 * after a crash, or run by a second instance, finds nothing left to do.
 */

const char *const dm_param_names[DM_P_COUNT + 1] = {
    [DM_P_INACTIVE] = "inactive", [DM_P_NEVER] = "never",         [DM_P_MIN_AGE] = "min_age",
    [DM_P_CONFIRM] = "confirm",   [DM_P_REMINDERS] = "reminders", [DM_P_ERASE] = "erase",
    [DM_P_LAG] = "lag",           [DM_P_ACTIVE] = "active",       [DM_P_SUSPENDED] = "suspended",
    [DM_P_URL] = "url",           [DM_P_WRITE] = "write",         [DM_P_MARK_TS] = "mark_ts",
    [DM_P_MARK_ID] = "mark_id",   [DM_P_LIMIT] = "limit",         [DM_P_PERIOD] = "period",
    [DM_P_POLL] = "poll",         [DM_P_ZONE] = "zone",           [DM_P_FIRST] = "first",
    [DM_P_COUNT] = NULL,
};

/* Two fragments one after the other; newly allocated. */
static char *join(const char *a, const char *b)
{
    struct dm_strbuf buf = {0};
    dm_strbuf_printf(&buf, "%s\n%s", a, b);
    return buf.s;
}

/* Renders tmpl with its slots filled into st. */
static void render(struct dm_stmt *st, const char *tmpl, const struct dm_sql_slot *slots,
                   size_t nslots, const struct dm_sql_names *names)
{
    char *sql = dm_sql_compose(tmpl, slots, nslots);
    dm_sql_render(st, sql, names, dm_param_names);
    free(sql);
}

/* The three statements of a step that is a "due" part and a tail: run
 * (run_due limited to a batch and its rows locked with lock, then write),
 * preview and count (all_due unlimited, no lock). */
static void build_step_text(const struct dm_sql_names *names, struct dm_lifecycle *lc,
                            enum dm_step step, const char *run_due, const char *all_due,
                            const char *write, enum dm_sql_file preview, const char *lock)
{
    const struct dm_sql_slot batch[] = {{"LIMIT", dm_sql(DM_SQL_LIFECYCLE_LIMIT)},
                                        {"ROW_LOCK", lock}};
    const struct dm_sql_slot all[] = {{"LIMIT", ""}, {"ROW_LOCK", ""}};
    char *run = join(run_due, write);
    render(&lc->run[step], run, batch, 2, names);
    free(run);
    char *pv = join(all_due, dm_sql(preview));
    render(&lc->preview[step], pv, all, 2, names);
    free(pv);
    char *ct = join(all_due, dm_sql(DM_SQL_LIFECYCLE_COUNT_DUE));
    render(&lc->count[step], ct, all, 2, names);
    free(ct);
}

/* build_step_text() of a step whose "due" part is one file for all three. */
static void build_step(const struct dm_sql_names *names, struct dm_lifecycle *lc, enum dm_step step,
                       enum dm_sql_file due, const char *write, enum dm_sql_file preview,
                       const char *lock)
{
    build_step_text(names, lc, step, dm_sql(due), dm_sql(due), write, preview, lock);
}

/* The three candidate sources of the request steps. */
static const struct {
    enum dm_step step;
    enum dm_sql_file source;
    enum dm_sql_file mark; /* watermark update, or DM_SQL_FILE_COUNT: none */
} requests[] = {
    {DM_STEP_REQUEST_RECHECK, DM_SQL_LIFECYCLE_REQUEST_SOURCE_RECHECK, DM_SQL_FILE_COUNT},
    {DM_STEP_REQUEST_INACTIVE, DM_SQL_LIFECYCLE_REQUEST_SOURCE_INACTIVE,
     DM_SQL_LIFECYCLE_REQUEST_MARK_INACTIVE},
    {DM_STEP_REQUEST_NEVER, DM_SQL_LIFECYCLE_REQUEST_SOURCE_NEVER,
     DM_SQL_LIFECYCLE_REQUEST_MARK_NEVER},
};
#define N_REQUESTS (sizeof requests / sizeof requests[0])

/* request.sql for request step i with tail: a batch (watermark from
 * parameters, LIMIT) or everything (watermark from the control row). */
static char *request(size_t i, bool batch, const char *tail)
{
    const struct dm_sql_slot source_slots[] = {
        {"LIMIT", batch ? dm_sql(DM_SQL_LIFECYCLE_LIMIT) : ""},
        {"MARK_TS",
         dm_sql(batch ? DM_SQL_LIFECYCLE_MARK_PARAM_TS : DM_SQL_LIFECYCLE_MARK_CONTROL_TS)},
        {"MARK_ID",
         dm_sql(batch ? DM_SQL_LIFECYCLE_MARK_PARAM_ID : DM_SQL_LIFECYCLE_MARK_CONTROL_ID)},
    };
    char *source = dm_sql_compose(dm_sql(requests[i].source), source_slots, 3);
    const struct dm_sql_slot slots[] = {
        {"SOURCE", source},
        {"DECIDE", dm_sql(DM_SQL_LIFECYCLE_REQUEST_DECIDE)},
        {"TAIL", tail},
    };
    char *sql = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_REQUEST), slots, 3);
    free(source);
    return sql;
}

/* The backlog: everyone the request steps would ask now, unbatched. */
static char *backlog(const struct dm_config *cfg)
{
    struct dm_strbuf parts = {0};
    dm_strbuf_str(&parts, "");
    for (size_t i = 0; i < N_REQUESTS; i++) {
        if (requests[i].step == DM_STEP_REQUEST_NEVER && !cfg->policy.never_active_after.set)
            continue;
        bool any = cfg->limits.max_backlog_fraction >= 1.0;
        char *req = request(i, false, any ? "" : dm_sql(DM_SQL_LIFECYCLE_REQUEST_COUNT));
        const struct dm_sql_slot slot[] = {{"REQUEST", req}};
        char *part = dm_sql_compose(
            dm_sql(any ? DM_SQL_LIFECYCLE_BACKLOG_ANY : DM_SQL_LIFECYCLE_BACKLOG_COUNT), slot, 1);
        dm_strbuf_str(&parts, part);
        free(part);
        free(req);
    }
    const struct dm_sql_slot slot[] = {{"PARTS", parts.s}};
    char *sql = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_BACKLOG), slot, 1);
    free(parts.s);
    return sql;
}

/* The sweep: one page of the source through the request steps' decision;
 * the writing statement owes at most a batch, preview and count what the
 * sweep owes now. */
static void sweep(const struct dm_sql_names *names, struct dm_lifecycle *lc)
{
    const struct dm_sql_slot owed[] = {{"OWED", dm_sql(DM_SQL_LIFECYCLE_SWEEP_OWED)}};
    char *quota = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_SWEEP_QUOTA_BATCH), owed, 1);
    char *write =
        join(dm_sql(DM_SQL_LIFECYCLE_SWEEP_WRITE), dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_WRITE));
    char *tail = join(write, dm_sql(DM_SQL_LIFECYCLE_SWEEP_DONE));
    const struct {
        struct dm_stmt *st;
        const char *quota;
        const char *tail;
    } parts[] = {
        {&lc->run[DM_STEP_SWEEP], quota, tail},
        {&lc->preview[DM_STEP_SWEEP], dm_sql(DM_SQL_LIFECYCLE_SWEEP_OWED),
         dm_sql(DM_SQL_LIFECYCLE_SWEEP_PREVIEW)},
        {&lc->count[DM_STEP_SWEEP], dm_sql(DM_SQL_LIFECYCLE_SWEEP_OWED),
         dm_sql(DM_SQL_LIFECYCLE_SWEEP_COUNT)},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const struct dm_sql_slot slots[] = {
            {"QUOTA", parts[i].quota},
            {"DECIDE", dm_sql(DM_SQL_LIFECYCLE_REQUEST_DECIDE)},
            {"TAIL", parts[i].tail},
        };
        render(parts[i].st, dm_sql(DM_SQL_LIFECYCLE_SWEEP), slots, 3, names);
    }
    free(quota);
    free(write);
    free(tail);
}

/* The request steps: three candidate sources, one decision; the
 * never-active rule has no statements when it is off. */
static void build_requests(const struct dm_config *cfg, const struct dm_sql_names *names,
                           struct dm_lifecycle *lc)
{
    for (size_t i = 0; i < N_REQUESTS; i++) {
        enum dm_step step = requests[i].step;
        lc->messages[step] = true;
        if (step == DM_STEP_REQUEST_NEVER && !cfg->policy.never_active_after.set)
            continue; /* the rule is off: no statements */
        bool recheck = requests[i].mark == DM_SQL_FILE_COUNT;
        const struct dm_sql_slot write_slots[] = {
            {"RECHECK", recheck ? "true" : "false"},
            {"MARK", recheck ? "" : dm_sql(requests[i].mark)},
            {"MARK_COLUMNS", dm_sql(recheck ? DM_SQL_LIFECYCLE_REQUEST_NO_MARK_COLUMNS
                                            : DM_SQL_LIFECYCLE_REQUEST_MARK_COLUMNS)},
        };
        char *write = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_REQUEST_WRITE), write_slots, 3);
        char *run = request(i, true, write);
        char *pv = request(i, false, dm_sql(DM_SQL_LIFECYCLE_REQUEST_PREVIEW));
        char *ct = request(i, false, dm_sql(DM_SQL_LIFECYCLE_REQUEST_COUNT));
        render(&lc->run[step], run, NULL, 0, names);
        render(&lc->preview[step], pv, NULL, 0, names);
        render(&lc->count[step], ct, NULL, 0, names);
        free(write);
        free(run);
        free(pv);
        free(ct);
    }
}

/* The configuration's parameter values, rendered once per load. False
 * when one does not fit. */
static bool render_values(const struct dm_config *cfg, struct dm_lifecycle *lc, char *err,
                          size_t errlen)
{
    const struct dm_interval *ivs[DM_P_COUNT] = {
        [DM_P_INACTIVE] = &cfg->policy.inactive_after,
        [DM_P_NEVER] = &cfg->policy.never_active_after,
        [DM_P_MIN_AGE] = &cfg->policy.min_account_age,
        [DM_P_CONFIRM] = &cfg->policy.confirm_within,
        [DM_P_ERASE] = &cfg->policy.erase_after,
        [DM_P_LAG] = &cfg->limits.max_activity_lag,
        [DM_P_PERIOD] = &cfg->limits.sweep_period,
        [DM_P_POLL] = &cfg->limits.poll_interval,
    };
    for (int i = 0; i < DM_P_COUNT; i++) {
        if (ivs[i] == NULL)
            continue;
        if (ivs[i]->set)
            dm_interval_sql(ivs[i], lc->values[i], DM_LC_VALUE_SIZE);
        else if (i == DM_P_MIN_AGE || i == DM_P_LAG)
            snprintf(lc->values[i], DM_LC_VALUE_SIZE, "0 seconds");
        else
            lc->value_null[i] = true;
    }
    struct dm_strbuf rem = {0};
    dm_strbuf_str(&rem, "{");
    for (size_t i = 0; i < cfg->policy.reminders.n; i++) {
        char one[128];
        dm_interval_sql(&cfg->policy.reminders.items[i], one, sizeof one);
        dm_strbuf_str(&rem, i ? ",\"" : "\"");
        dm_strbuf_str(&rem, one);
        dm_strbuf_str(&rem, "\"");
    }
    dm_strbuf_str(&rem, "}");
    int n1 = snprintf(lc->values[DM_P_REMINDERS], DM_LC_VALUE_SIZE, "%s", rem.s);
    int n2 = snprintf(lc->values[DM_P_ACTIVE], DM_LC_VALUE_SIZE, "%s", cfg->source.billing.active);
    int n3 =
        snprintf(lc->values[DM_P_SUSPENDED], DM_LC_VALUE_SIZE, "%s", cfg->source.billing.suspended);
    int n4 = snprintf(lc->values[DM_P_URL], DM_LC_VALUE_SIZE, "%s", cfg->http.public_url);
    int n5 = snprintf(lc->values[DM_P_ZONE], DM_LC_VALUE_SIZE, "%s",
                      cfg->email.timezone[0] ? cfg->email.timezone : "UTC");
    free(rem.s);
    if (n1 >= DM_LC_VALUE_SIZE || n2 >= DM_LC_VALUE_SIZE || n3 >= DM_LC_VALUE_SIZE ||
        n4 >= DM_LC_VALUE_SIZE || n5 >= DM_LC_VALUE_SIZE) {
        snprintf(err, errlen,
                 "a configuration value is too long (reminders, billing, url or time zone)");
        return false;
    }
    return true;
}

bool dm_lifecycle_build(const struct dm_config *cfg, const struct dm_sql_names *names,
                        struct dm_lifecycle *lc, char *err, size_t errlen)
{
    memset(lc, 0, sizeof *lc);

    if (!render_values(cfg, lc, err, errlen))
        return false;

    build_requests(cfg, names, lc);
    render(&lc->run[DM_STEP_RESCHEDULE], dm_sql(DM_SQL_LIFECYCLE_RESCHEDULE), NULL, 0, names);
    build_step(names, lc, DM_STEP_RESUME, DM_SQL_LIFECYCLE_RESUME_DUE,
               dm_sql(DM_SQL_LIFECYCLE_RESUME_WRITE), DM_SQL_LIFECYCLE_RESUME_PREVIEW, "");
    {
        /* A page of the reactivation cursor has its own LIMIT; preview and
         * count look at every suspended account. */
        char *run = join(dm_sql(DM_SQL_LIFECYCLE_REACTIVATE_DUE),
                         dm_sql(DM_SQL_LIFECYCLE_REACTIVATE_WRITE));
        render(&lc->run[DM_STEP_REACTIVATE], run, NULL, 0, names);
        free(run);
        char *pv = join(dm_sql(DM_SQL_LIFECYCLE_REACTIVATE_ALL),
                        dm_sql(DM_SQL_LIFECYCLE_REACTIVATE_PREVIEW));
        render(&lc->preview[DM_STEP_REACTIVATE], pv, NULL, 0, names);
        free(pv);
        char *ct =
            join(dm_sql(DM_SQL_LIFECYCLE_REACTIVATE_ALL), dm_sql(DM_SQL_LIFECYCLE_COUNT_DUE));
        render(&lc->count[DM_STEP_REACTIVATE], ct, NULL, 0, names);
        free(ct);
        lc->messages[DM_STEP_REACTIVATE] = true;
    }
    if (cfg->policy.reminders.n > 0) {
        build_step(names, lc, DM_STEP_REMIND, DM_SQL_LIFECYCLE_REMIND_DUE,
                   dm_sql(DM_SQL_LIFECYCLE_REMIND_WRITE), DM_SQL_LIFECYCLE_REMIND_PREVIEW, "");
        lc->messages[DM_STEP_REMIND] = true;
    }
    {
        /* The writing batch locks its source rows; preview and count do not. */
        const struct dm_sql_slot locked[] = {{"DUE", dm_sql(DM_SQL_LIFECYCLE_SUSPEND_LOCKED)}};
        const struct dm_sql_slot unlocked[] = {{"DUE", dm_sql(DM_SQL_LIFECYCLE_SUSPEND_UNLOCKED)}};
        char *run_due = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_SUSPEND_DUE), locked, 1);
        char *all_due = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_SUSPEND_DUE), unlocked, 1);
        build_step_text(names, lc, DM_STEP_SUSPEND, run_due, all_due,
                        dm_sql(DM_SQL_LIFECYCLE_SUSPEND_WRITE), DM_SQL_LIFECYCLE_SUSPEND_PREVIEW,
                        "");
        free(run_due);
        free(all_due);
    }
    lc->messages[DM_STEP_SUSPEND] = true;
    if (cfg->policy.erase_after.set) {
        const struct dm_sql_slot slots[] = {
            {"ERASE_SOURCE",
             cfg->policy.erase_columns.n > 0 ? dm_sql(DM_SQL_LIFECYCLE_ERASE_SOURCE) : ""},
            {"ERASE_WIPE", dm_sql(DM_SQL_LIFECYCLE_ERASE_WIPE)}};
        char *write = dm_sql_compose(dm_sql(DM_SQL_LIFECYCLE_ERASE_WRITE), slots, 2);
        build_step(names, lc, DM_STEP_ERASE, DM_SQL_LIFECYCLE_ERASE_DUE, write,
                   DM_SQL_LIFECYCLE_ERASE_PREVIEW, dm_sql(DM_SQL_LIFECYCLE_ERASE_LOCK));
        lc->messages[DM_STEP_ERASE] = true;
        free(write);
    }

    {
        /* Pending subscribers who left, checked before they are reminded or suspended. */
        char *write =
            join(dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_WRITE), dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_DONE));
        const struct dm_sql_slot batch[] = {{"LIMIT", dm_sql(DM_SQL_LIFECYCLE_LIMIT)}};
        const struct dm_sql_slot all[] = {{"LIMIT", ""}};
        char *run = join(dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_DUE), write);
        render(&lc->run[DM_STEP_WITHDRAW], run, batch, 1, names);
        char *pv =
            join(dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_DUE), dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_PREVIEW));
        render(&lc->preview[DM_STEP_WITHDRAW], pv, all, 1, names);
        char *ct =
            join(dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_DUE), dm_sql(DM_SQL_LIFECYCLE_WITHDRAW_COUNT));
        render(&lc->count[DM_STEP_WITHDRAW], ct, all, 1, names);
        free(write);
        free(run);
        free(pv);
        free(ct);
    }
    sweep(names, lc);

    char *bl = backlog(cfg);
    const struct dm_sql_slot slot[] = {{"BACKLOG", bl}};
    render(&lc->guards, dm_sql(DM_SQL_LIFECYCLE_GUARDS), slot, 1, names);
    free(bl);
    render(&lc->eligible, dm_sql(DM_SQL_LIFECYCLE_ELIGIBLE), NULL, 0, names);
    render(&lc->setup, dm_sql(DM_SQL_LIFECYCLE_SETUP), NULL, 0, names);
    return true;
}

void dm_lifecycle_free(struct dm_lifecycle *lc)
{
    for (int i = 0; i < DM_STEP_COUNT; i++) {
        free(lc->run[i].sql);
        free(lc->preview[i].sql);
        free(lc->count[i].sql);
    }
    free(lc->guards.sql);
    free(lc->eligible.sql);
    free(lc->setup.sql);
    memset(lc, 0, sizeof *lc);
}

void dm_lifecycle_params(const struct dm_lifecycle *lc, const struct dm_stmt *st,
                         const struct dm_lc_call *call, char *limit_buf, size_t limit_len,
                         const char **values)
{
    snprintf(limit_buf, limit_len, "%ld", call->limit);
    for (int i = 0; i < st->nparams; i++) {
        enum dm_param p = (enum dm_param)st->params[i];
        if (p == DM_P_LIMIT)
            values[i] = limit_buf;
        else if (p == DM_P_MARK_TS)
            values[i] = call->mark_ts;
        else if (p == DM_P_MARK_ID)
            values[i] = call->mark_id;
        else if (p == DM_P_WRITE)
            values[i] = call->write ? "true" : "false";
        else if (p == DM_P_FIRST)
            values[i] = call->first ? "true" : "false";
        else if (lc->value_null[p])
            values[i] = NULL;
        else
            values[i] = lc->values[p];
    }
}
