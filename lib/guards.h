/* The guards of a pass: what they read, what they decide, what they hold back. */
#ifndef DM_GUARDS_H
#define DM_GUARDS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"
#include "lifecycle.h"

struct dm_config;

/*
 * Pure: no I/O, no clock, no daemon. The pass and dormantctl preview read
 * the same guard row (lib/sql/lifecycle/guards.sql), ask whether the
 * eligible count is needed, decide, and ask of each step whether a guard
 * holds it back; so the preview says what the pass will do.
 *
 *   paused    dormantctl pause or SIGUSR1: nothing is done *to* subscribers
 *             (requests, reminders, suspensions, erasures); their own acts
 *             (resume, reactivation) go on.
 *   stale     the newest activity is older than limits.max_activity_lag:
 *             no requests or suspensions, which would act on stale data.
 *   backlog   more would be asked now than limits.max_backlog_fraction of
 *             the eligible subscribers, and no larger backlog is accepted:
 *             no requests until dormantctl accept-backlog.
 *   rate      limits.max_requests_per_day counts the last 24 hours: the
 *             requests stop when it is reached (the rest wait).
 *   dry run   nothing is written: the bookkeeping step does not run, the
 *             others count instead of moving.
 */
struct dm_guards {
    /* Read from the guard row (dm_guards_read). */
    bool paused_db;          /* control.paused (dormantctl pause) */
    bool stale;              /* newest activity older than limits.max_activity_lag */
    char newest[64];         /* newest activity, as PostgreSQL printed it ("" = none) */
    long long requested_24h; /* requests over the last 24 hours (-1: not counted, none wait) */
    long long backlog;       /* subscribers the request steps would ask now */
    long long accepted;      /* control.backlog_accepted (-1 = none) */
    long long eligible;      /* eligible subscribers (-1 = unknown) */
    bool rescanned;          /* the row reset the watermarks for a rescan */
    /* Set by the caller. */
    bool eligible_fresh; /* eligible was counted by this pass (dm_guards_set_eligible) */
    bool paused;         /* paused_db, or this process is paused (SIGUSR1) */
    bool dry_run;        /* nothing may be written */
    /* Decided (dm_guards_decide). */
    bool backlog_tripped; /* backlog over the fraction and not accepted */
    bool rate_tripped;    /* the daily rate holds some of the backlog back */
    long long remaining;  /* requests the rate still allows */
};

/* The guards that can hold a step back. */
enum dm_hold {
    DM_HOLD_NONE,    /* the step runs */
    DM_HOLD_DRY_RUN, /* the bookkeeping step writes, so a dry run skips it */
    DM_HOLD_PAUSED,
    DM_HOLD_STALE,
    DM_HOLD_BACKLOG,
    DM_HOLD_RATE,
};

/* Fills g from the guard row: the first eight columns of guards.sql (the
 * watermarks after them are the pass's). Clears the caller's fields. */
void dm_guards_read(struct dm_guards *g, const PGresult *row);

/* True when the backlog guard needs a fresh eligible count: there is a
 * backlog, the guard is on, and the cached count is missing or would trip
 * it (a stale count must not hold requests back). */
bool dm_guards_need_eligible(const struct dm_guards *g, const struct dm_config *cfg);

/* Records a fresh eligible count. */
void dm_guards_set_eligible(struct dm_guards *g, long long eligible);

/* Decides the backlog and rate guards and the requests the rate allows. */
void dm_guards_decide(struct dm_guards *g, const struct dm_config *cfg);

/* Which guard holds step s back (DM_HOLD_NONE: none). */
enum dm_hold dm_guards_hold(const struct dm_guards *g, enum dm_step s);

/* Why, in a line an operator can act on ("paused (dormantctl resume to go on)"). */
const char *dm_hold_reason(enum dm_hold h);

/* The guards as the jsonb document control.guards holds (dormantctl
 * status, /healthz); "eligible_at": "now" marks a fresh count. */
void dm_guards_json(const struct dm_guards *g, const struct dm_config *cfg, char *buf, size_t len);

#endif
