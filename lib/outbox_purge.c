/* Old messages leave the outbox: limits.keep_messages. */
#include "outbox_purge.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "interval.h"
#include "log.h"
#include "sql.h"
#include "util.h"

/* While batches come back full, the next one follows after this long. */
#define PURGE_AGAIN_MS 1000

static const char *const purge_params[] = {"keep", "limit", NULL};

struct dm_purge {
    struct dm_env env;
    struct event *timer;
    struct dm_stmt sql;
    struct dm_stmt sql_fold; /* outbox/tally_fold.sql */
    bool busy;               /* a batch is in flight */
    bool stopped;            /* dm_purge_stop() */
};

static void arm(struct dm_purge *p, int64_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (!p->stopped)
        evtimer_add(p->timer, &tv);
}

static void batch_cb(void *arg, PGresult *res)
{
    struct dm_purge *p = arg;
    p->busy = false;
    if (res == NULL) /* connection lost: the state callback starts again */
        return;
    if (!dm_db_ok(res) || PQntuples(res) != 1) {
        dm_log_error("outbox: cannot delete old messages", DM_S("error", dm_db_error(res)));
        arm(p, dm_interval_ms(&p->env.cfg->limits.poll_interval));
        return;
    }
    long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (n > 0)
        dm_log_info("outbox: deleted old messages", DM_I("messages", n));
    arm(p,
        n >= DM_PURGE_BATCH ? PURGE_AGAIN_MS : dm_interval_ms(&p->env.cfg->limits.poll_interval));
}

static void fold_cb(void *arg, PGresult *res)
{
    if (res != NULL && !dm_db_ok(res))
        dm_log_error("outbox: cannot fold the counts", DM_S("error", dm_db_error(res)));
}

/* Sends one batch (and folds the counts the scrapes read), unless one is in flight or nothing may
 * be written. */
static void batch(struct dm_purge *p)
{
    char keep[128], limit[16];
    if (p->busy || p->stopped || p->env.once || !dm_db_up(p->env.db))
        return;
    if (p->env.hooks.dry_run != NULL && p->env.hooks.dry_run(p->env.hooks.owner)) {
        arm(p, dm_interval_ms(&p->env.cfg->limits.poll_interval));
        return;
    }
    dm_interval_sql(&p->env.cfg->limits.keep_messages, keep, sizeof keep);
    snprintf(limit, sizeof limit, "%d", DM_PURGE_BATCH);
    const char *values[] = {keep, limit};
    const char *bound[DM_SQL_MAX_PARAMS];
    dm_stmt_bind(&p->sql, values, bound);
    if (dm_db_send(p->env.db, p->sql.sql, p->sql.nparams, bound, batch_cb, p))
        p->busy = true;
    if (p->busy && !dm_db_send(p->env.db, p->sql_fold.sql, 0, NULL, fold_cb, p))
        return; /* the connection went: the state callback starts again */
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    batch(arg);
}

static void on_state(void *arg, bool up)
{
    struct dm_purge *p = arg;
    if (up)
        batch(p);
}

static void build_sql(struct dm_purge *p)
{
    dm_stmt_free(&p->sql);
    dm_stmt_free(&p->sql_fold);
    dm_sql_render(&p->sql, dm_sql(DM_SQL_OUTBOX_PURGE), p->env.names, purge_params);
    dm_sql_render(&p->sql_fold, dm_sql(DM_SQL_OUTBOX_TALLY_FOLD), p->env.names, NULL);
}

struct dm_purge *dm_purge_new(const struct dm_env *env)
{
    struct dm_purge *p = dm_xcalloc(1, sizeof *p);
    p->env = *env;
    p->timer = evtimer_new(env->base, timer_cb, p);
    build_sql(p);
    dm_db_on_state(env->db, on_state, p);
    return p;
}

void dm_purge_reconfigure(struct dm_purge *p, const struct dm_config *cfg,
                          const struct dm_sql_names *names)
{
    p->env.cfg = cfg;
    p->env.names = names;
    build_sql(p);
}

void dm_purge_stop(struct dm_purge *p)
{
    p->stopped = true;
    evtimer_del(p->timer);
}

void dm_purge_free(struct dm_purge *p)
{
    if (p == NULL)
        return;
    event_free(p->timer);
    dm_stmt_free(&p->sql);
    dm_stmt_free(&p->sql_fold);
    free(p);
}
