/* The guards of a pass: what they read, what they decide, what they hold back. */
#include "guards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static long long ival(const PGresult *res, int col, long long dflt)
{
    return PQgetisnull(res, 0, col) ? dflt : atoll(PQgetvalue(res, 0, col));
}

static bool bval(const PGresult *res, int col)
{
    return !PQgetisnull(res, 0, col) && PQgetvalue(res, 0, col)[0] == 't';
}

void dm_guards_read(struct dm_guards *g, const PGresult *row)
{
    memset(g, 0, sizeof *g);
    g->paused_db = bval(row, 0);
    g->stale = bval(row, 1);
    snprintf(g->newest, sizeof g->newest, "%s",
             PQgetisnull(row, 0, 2) ? "" : PQgetvalue(row, 0, 2));
    g->requested_24h = ival(row, 3, -1);
    g->backlog = ival(row, 4, 0);
    g->accepted = ival(row, 5, -1);
    g->eligible = ival(row, 6, -1);
    g->rescanned = ival(row, 7, 0) > 0;
}

/* The backlog is over the fraction of an eligible count. */
static bool over(const struct dm_guards *g, double fraction)
{
    return (double)g->backlog > fraction * (double)g->eligible;
}

bool dm_guards_need_eligible(const struct dm_guards *g, const struct dm_config *cfg)
{
    double fraction = cfg->limits.max_backlog_fraction;
    return g->backlog > 0 && fraction < 1.0 && (g->eligible < 0 || over(g, fraction));
}

void dm_guards_set_eligible(struct dm_guards *g, long long eligible)
{
    g->eligible = eligible;
    g->eligible_fresh = true;
}

void dm_guards_decide(struct dm_guards *g, const struct dm_config *cfg)
{
    double fraction = cfg->limits.max_backlog_fraction;
    g->remaining = cfg->limits.max_requests_per_day - (g->requested_24h < 0 ? 0 : g->requested_24h);
    if (g->remaining < 0)
        g->remaining = 0;
    g->rate_tripped = g->backlog > g->remaining;
    g->backlog_tripped = g->backlog > 0 && fraction < 1.0 && g->eligible >= 0 &&
                         over(g, fraction) && g->backlog > (g->accepted < 0 ? 0 : g->accepted);
}

enum dm_hold dm_guards_hold(const struct dm_guards *g, enum dm_step s)
{
    switch (s) {
    case DM_STEP_RESCHEDULE:
        return g->dry_run ? DM_HOLD_DRY_RUN : DM_HOLD_NONE;
    case DM_STEP_RESUME:
    case DM_STEP_REACTIVATE:
        return DM_HOLD_NONE; /* the subscriber's and the application's own acts */
    case DM_STEP_REQUEST_RECHECK:
    case DM_STEP_REQUEST_INACTIVE:
    case DM_STEP_REQUEST_NEVER:
        return g->paused            ? DM_HOLD_PAUSED
               : g->stale           ? DM_HOLD_STALE
               : g->backlog_tripped ? DM_HOLD_BACKLOG
               : g->remaining <= 0  ? DM_HOLD_RATE
                                    : DM_HOLD_NONE;
    case DM_STEP_REMIND:
    case DM_STEP_ERASE:
        return g->paused ? DM_HOLD_PAUSED : DM_HOLD_NONE;
    case DM_STEP_SUSPEND:
        return g->paused ? DM_HOLD_PAUSED : g->stale ? DM_HOLD_STALE : DM_HOLD_NONE;
    default:
        return DM_HOLD_NONE;
    }
}

const char *dm_hold_reason(enum dm_hold h)
{
    switch (h) {
    case DM_HOLD_DRY_RUN:
        return "dry run (nothing is written)";
    case DM_HOLD_PAUSED:
        return "paused (dormantctl resume to go on)";
    case DM_HOLD_STALE:
        return "the activity feed is stale (newest activity older than limits.max_activity_lag)";
    case DM_HOLD_BACKLOG:
        return "backlog guard tripped (check, then dormantctl accept-backlog)";
    case DM_HOLD_RATE:
        return "limits.max_requests_per_day reached (the rest wait)";
    default:
        return NULL;
    }
}

void dm_guards_json(const struct dm_guards *g, const struct dm_config *cfg, char *buf, size_t len)
{
    char newest[96], accepted[32], eligible[64], requested[32], backlog[32];
    /* With the backlog guard off, the guards only learn whether anyone waits. */
    if (cfg->limits.max_backlog_fraction >= 1.0)
        snprintf(backlog, sizeof backlog, "null");
    else
        snprintf(backlog, sizeof backlog, "%lld", g->backlog);
    if (g->newest[0])
        snprintf(newest, sizeof newest, "\"%s\"", g->newest);
    else
        snprintf(newest, sizeof newest, "null");
    if (g->requested_24h >= 0)
        snprintf(requested, sizeof requested, "%lld", g->requested_24h);
    else
        snprintf(requested, sizeof requested, "null");
    if (g->accepted >= 0)
        snprintf(accepted, sizeof accepted, "%lld", g->accepted);
    else
        snprintf(accepted, sizeof accepted, "null");
    if (g->eligible >= 0 && g->eligible_fresh)
        snprintf(eligible, sizeof eligible, "%lld, \"eligible_at\": \"now\"", g->eligible);
    else if (g->eligible >= 0)
        snprintf(eligible, sizeof eligible, "%lld", g->eligible);
    else
        snprintf(eligible, sizeof eligible, "null");
    snprintf(buf, len,
             "{\"stale_activity\": {\"tripped\": %s, \"newest_activity\": %s},"
             " \"backlog\": {\"tripped\": %s, \"count\": %s, \"eligible\": %s,"
             " \"accepted\": %s, \"fraction\": %g},"
             " \"rate\": {\"tripped\": %s, \"requested_24h\": %s, \"limit\": %d},"
             " \"paused\": %s, \"dry_run\": %s}",
             g->stale ? "true" : "false", newest, g->backlog_tripped ? "true" : "false", backlog,
             eligible, accepted, cfg->limits.max_backlog_fraction,
             g->rate_tripped ? "true" : "false", requested, cfg->limits.max_requests_per_day,
             g->paused ? "true" : "false", g->dry_run ? "true" : "false");
}
