/* Claiming outbox rows (see outbox_claim.h). */
#include "outbox_claim.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "sql.h"
#include "util.h"

struct dm_claimer {
    struct dm_db *db;
    char *me;
    void *arg;
    int64_t head_every_ms;
    struct dm_stmt sql_claim;
    struct dm_stmt sql_next_due;
    struct dm_stmt sql_release;
    dm_claimed_fn claimed;
    dm_next_due_fn next_due;
    bool claiming;    /* a claim is in flight */
    bool asking_next; /* a next-due query is in flight */
    /* The position the next claim reads from, and when a claim last read
     * from the head ("-infinity", "0"). */
    char after_at[64];
    char after_id[24];
    int64_t head_ms;
};

/* The parameters of each statement, in the order the calls pass them. */
static const char *const claim_params[] = {"me",      "limit",    "lease",    "channels",
                                           "confirm", "after_at", "after_id", NULL};
static const char *const next_due_params[] = {"channels", NULL};
static const char *const release_params[] = {"me", "ids", NULL};

struct dm_claimer *dm_claimer_new(struct dm_db *db, const char *me, int64_t head_every_ms,
                                  void *arg)
{
    struct dm_claimer *c = dm_xcalloc(1, sizeof *c);
    c->db = db;
    c->me = dm_xstrdup(me);
    c->arg = arg;
    c->head_every_ms = head_every_ms;
    return c;
}

void dm_claimer_reconfigure(struct dm_claimer *c, const struct dm_sql_names *names)
{
    dm_stmt_free(&c->sql_claim);
    dm_stmt_free(&c->sql_next_due);
    dm_stmt_free(&c->sql_release);
    dm_sql_render(&c->sql_claim, dm_sql(DM_SQL_OUTBOX_CLAIM), names, claim_params);
    dm_sql_render(&c->sql_next_due, dm_sql(DM_SQL_OUTBOX_NEXT_DUE), names, next_due_params);
    dm_sql_render(&c->sql_release, dm_sql(DM_SQL_OUTBOX_RELEASE), names, release_params);
    c->head_ms = 0;
}

/* Sends st with values in the order of its parameter list. */
static bool send_stmt(struct dm_claimer *c, const struct dm_stmt *st, const char *const *values,
                      dm_db_result_fn fn)
{
    const char *bound[DM_SQL_MAX_PARAMS];
    dm_stmt_bind(st, values, bound);
    return dm_db_send(c->db, st->sql, st->nparams, bound, fn, c);
}

bool dm_claimer_busy(const struct dm_claimer *c)
{
    return c->claiming;
}

void dm_claimer_rewind(struct dm_claimer *c)
{
    c->head_ms = 0;
}

static void claim_cb(void *arg, PGresult *res)
{
    struct dm_claimer *c = arg;
    c->claiming = false;
    if (res == NULL) {
        c->head_ms = 0;
    } else if (!dm_db_ok(res)) {
        dm_log_error("outbox: cannot claim due messages", DM_S("error", dm_db_error(res)));
        c->head_ms = 0;
    } else if (PQntuples(res) > 0) {
        dm_log_debug("outbox: claimed", DM_I("messages", PQntuples(res)));
        snprintf(c->after_at, sizeof c->after_at, "%s", PQgetvalue(res, 0, DM_CLAIM_AFTER_AT));
        snprintf(c->after_id, sizeof c->after_id, "%s", PQgetvalue(res, 0, DM_CLAIM_AFTER_ID));
    }
    c->claimed(c->arg, res);
}

bool dm_claimer_claim(struct dm_claimer *c, const struct dm_claim_args *a, dm_claimed_fn fn)
{
    char limit[16];
    if (c->claiming || !dm_db_up(c->db))
        return false;
    if (dm_now_ms() - c->head_ms >= c->head_every_ms) {
        snprintf(c->after_at, sizeof c->after_at, "-infinity");
        snprintf(c->after_id, sizeof c->after_id, "0");
        c->head_ms = dm_now_ms();
    }
    snprintf(limit, sizeof limit, "%d", a->limit);
    const char *params[] = {c->me,      limit,       a->lease,   a->channels,
                            a->confirm, c->after_at, c->after_id};
    c->claimed = fn;
    if (!send_stmt(c, &c->sql_claim, params, claim_cb))
        return false;
    c->claiming = true;
    return true;
}

static void next_due_cb(void *arg, PGresult *res)
{
    struct dm_claimer *c = arg;
    c->asking_next = false;
    if (!dm_db_ok(res) || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        c->next_due(c->arg, -1);
    else
        c->next_due(c->arg, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
}

bool dm_claimer_next_due(struct dm_claimer *c, const char *channels, dm_next_due_fn fn)
{
    if (c->asking_next)
        return false;
    const char *params[] = {channels};
    c->next_due = fn;
    if (!send_stmt(c, &c->sql_next_due, params, next_due_cb))
        return false;
    c->asking_next = true;
    return true;
}

static void release_cb(void *arg, PGresult *res)
{
    if (res != NULL && !dm_db_ok(res))
        dm_log_warning("outbox: cannot release claims; they expire on their own",
                       DM_S("error", dm_db_error(res)));
}

void dm_claimer_release(struct dm_claimer *c, const char *ids)
{
    const char *params[] = {c->me, ids};
    if (!send_stmt(c, &c->sql_release, params, release_cb))
        dm_log_warning("outbox: cannot release claims now; they expire on their own");
}

void dm_claimer_free(struct dm_claimer *c)
{
    if (c == NULL)
        return;
    dm_stmt_free(&c->sql_claim);
    dm_stmt_free(&c->sql_next_due);
    dm_stmt_free(&c->sql_release);
    free(c->me);
    free(c);
}
