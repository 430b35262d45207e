/* The lifecycle rules as SQL: every statement a pass runs, built from the configuration. */
#ifndef DM_LIFECYCLE_H
#define DM_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "dormant.h"
#include "sql.h"

struct dm_config;

/* Values a statement can take as parameters. The configuration's are
 * rendered once per load; the last four are the call's (struct dm_lc_call). */
enum dm_param {
    DM_P_INACTIVE,  /* policy.inactive_after, interval */
    DM_P_NEVER,     /* policy.never_active_after, interval or NULL (rule off) */
    DM_P_MIN_AGE,   /* policy.min_account_age */
    DM_P_CONFIRM,   /* policy.confirm_within */
    DM_P_REMINDERS, /* policy.reminders, interval[] */
    DM_P_ERASE,     /* policy.erase_after or NULL */
    DM_P_LAG,       /* limits.max_activity_lag */
    DM_P_ACTIVE,    /* source.billing.active (typed by the billing column) */
    DM_P_SUSPENDED, /* source.billing.suspended */
    DM_P_URL,       /* http.public_url */
    DM_P_PERIOD,    /* limits.sweep_period */
    DM_P_POLL,      /* limits.poll_interval */
    DM_P_ZONE,      /* email.timezone: the zone messages state dates in */
    DM_P_WRITE,     /* boolean: false in dry runs (per call) */
    DM_P_MARK_TS,   /* a request or resume step's watermark time (per call) */
    DM_P_MARK_ID,   /* and its id tie-break (per call) */
    DM_P_LIMIT,     /* rows per statement (per call) */
    DM_P_FIRST,     /* boolean: the step's first statement of its pass (per call) */
    DM_P_COUNT,
};

/* Size of a rendered configuration value (intervals, billing values, url). */
#define DM_LC_VALUE_SIZE 512

/*
 * Everything a pass (and dormantctl preview) runs, for one configuration.
 * Built by dm_lifecycle_build() once per load and never changed afterwards.
 */
struct dm_lifecycle {
    /* Writes one batch of the step. One row: moved bigint (transitions
     * made), done boolean (nothing due left after this batch), notified;
     * the request steps add mark_ts, mark_id text: the watermark to pass
     * to the next batch (NULL for the recheck step); the sweep adds
     * examined, found (marked for the next pass's recheck step) and
     * reactivated (erased customers who came back). Steps that send
     * messages make a token per message in the database, so that no
     * token is ever a parameter a server could log. */
    struct dm_stmt run[DM_STEP_COUNT];
    /* Who the step would move now, without writing: rows of
     * (subscriber_id text, action text, rule text, reason text, since
     * timestamptz), at most DM_P_LIMIT of them, the order the pass takes. */
    struct dm_stmt preview[DM_STEP_COUNT];
    /* How many the step would move now (one bigint), without writing. */
    struct dm_stmt count[DM_STEP_COUNT];
    /* Guard readings at the start of a pass, and the rescan reset when
     * DM_P_WRITE: paused, stale, newest_activity, requested_24h (NULL when
     * the backlog is empty: counting it costs what the day's requests do), backlog,
     * (0 or 1, whether anyone waits, when max_backlog_fraction is 1 and the
     * backlog guard is off), backlog_accepted, eligible_cached (bigint or NULL when the cached
     * count is missing or older than an hour), rescanned, then the
     * watermarks the request steps start from, as text (NULL after a
     * rescan): inactive_mark, inactive_mark_id, created_mark, created_mark_id;
     * and activity_mark, the resume step's (its DM_P_MARK_TS). */
    struct dm_stmt guards;
    /* count(*) of subscribers with active billing matching source.eligible. */
    struct dm_stmt eligible;
    /* Writes the configuration the database needs (confirm_within and
     * reminders, which the outbox_delivered trigger reads) into the
     * control row. */
    struct dm_stmt setup;
    bool messages[DM_STEP_COUNT];              /* the step's run statement writes messages */
    char values[DM_P_COUNT][DM_LC_VALUE_SIZE]; /* rendered configuration values */
    bool value_null[DM_P_COUNT];               /* the value is SQL NULL */
};

/* What one call of a statement takes beside the configuration. */
struct dm_lc_call {
    long limit;          /* DM_P_LIMIT: rows per statement */
    const char *mark_ts; /* DM_P_MARK_TS: the watermark the last batch returned (NULL = none) */
    const char *mark_id; /* DM_P_MARK_ID likewise */
    bool write;          /* DM_P_WRITE: false in dry runs and dormantctl preview */
    bool first;          /* DM_P_FIRST: the step's first statement of its pass */
};

/* Parameter names as the files write them ($(inactive)), in enum dm_param
 * order, NULL-terminated. */
extern const char *const dm_param_names[DM_P_COUNT + 1];

/* Builds every statement for cfg, whose quoted names are names, into lc
 * (which the caller owns and frees with dm_lifecycle_free). False, with a
 * reason in err, only when a value does not fit (reminders, billing values
 * or URL too long). Statement i of a step takes params[i], an enum dm_param. */
bool dm_lifecycle_build(const struct dm_config *cfg, const struct dm_sql_names *names,
                        struct dm_lifecycle *lc, char *err, size_t errlen) DM_MUST_CHECK;

void dm_lifecycle_free(struct dm_lifecycle *lc);

/*
 * Fills values[0..st->nparams) for st: the configuration's values from lc,
 * the call's from call (the limit printed into limit_buf). The pointers
 * point into lc, call and limit_buf; values must have room for DM_P_COUNT
 * entries. lc is not changed: it stays as dm_lifecycle_build made it.
 */
void dm_lifecycle_params(const struct dm_lifecycle *lc, const struct dm_stmt *st,
                         const struct dm_lc_call *call, char *limit_buf, size_t limit_len,
                         const char **values);

#endif
