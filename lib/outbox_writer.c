/* The outbox's outcome writer (see outbox_writer.h). */
#include "outbox_writer.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "sql.h"
#include "strbuf.h"
#include "util.h"

struct dm_writer {
    struct dm_db *db;
    char *me;
    dm_writer_done_fn done;
    dm_writer_idle_fn idle;
    void *arg;
    struct dm_stmt sql;
    struct dm_outcome_rows ready;   /* waiting, oldest first */
    struct dm_outcome_rows writing; /* in the statement in flight */
    int nready, nwriting;
};

/* "me", then one array per DM_OUT_* column. */
static const char *const params[] = {"me",    "ids", "done",    "delivered", "stated", "dead",
                                     "delay", "err", "channel", "counted",   NULL};

struct dm_writer *dm_writer_new(struct dm_db *db, const char *me, dm_writer_done_fn done,
                                dm_writer_idle_fn idle, void *arg)
{
    struct dm_writer *w = dm_xcalloc(1, sizeof *w);
    w->db = db;
    w->me = dm_xstrdup(me);
    w->done = done;
    w->idle = idle;
    w->arg = arg;
    TAILQ_INIT(&w->ready);
    TAILQ_INIT(&w->writing);
    return w;
}

void dm_writer_reconfigure(struct dm_writer *w, const struct dm_sql_names *names)
{
    dm_stmt_free(&w->sql);
    dm_sql_render(&w->sql, dm_sql(DM_SQL_OUTBOX_OUTCOME), names, params);
}

void dm_writer_add(struct dm_writer *w, struct dm_outcome_row *row)
{
    TAILQ_INSERT_TAIL(&w->ready, row, link);
    w->nready++;
}

int dm_writer_pending(const struct dm_writer *w)
{
    return w->nready + w->nwriting;
}

/* Appends v to a PostgreSQL array literal: quoted, or NULL. */
static void array_add(struct dm_strbuf *b, const char *v)
{
    dm_strbuf_str(b, b->len > 1 ? "," : "");
    if (v == NULL) {
        dm_strbuf_str(b, "NULL");
        return;
    }
    dm_strbuf_str(b, "\"");
    for (const char *p = v; *p; p++) {
        size_t n = strcspn(p, "\"\\");
        dm_strbuf_add(b, p, n);
        p += n;
        if (*p == '\0')
            break;
        dm_strbuf_add(b, "\\", 1);
        dm_strbuf_add(b, p, 1);
    }
    dm_strbuf_str(b, "\"");
}

/* The rows in flight go back to the head of the queue, in order. */
static void requeue(struct dm_writer *w)
{
    TAILQ_CONCAT(&w->writing, &w->ready, link);
    TAILQ_CONCAT(&w->ready, &w->writing, link);
    w->nready += w->nwriting;
    w->nwriting = 0;
}

static void written(void *arg, PGresult *res)
{
    struct dm_writer *w = arg;

    if (res == NULL) {
        /* Lost with the connection: it may or may not have committed. */
        requeue(w);
        return;
    }
    bool ok = dm_db_ok(res);
    if (!ok)
        dm_log_error("outbox: cannot record delivery outcomes; the messages will be retried",
                     DM_S("error", dm_db_error(res)));
    int rows = ok ? PQntuples(res) : 0;
    /* The statement returns the ids it applied to, in the order of the
     * batch (outcome.sql), so one walk matches them. */
    int r = 0;
    while (!TAILQ_EMPTY(&w->writing)) {
        struct dm_outcome_row *row = TAILQ_FIRST(&w->writing);
        TAILQ_REMOVE(&w->writing, row, link);
        w->nwriting--;
        enum dm_writer_result result = DM_NOT_WRITTEN;
        if (ok && r < rows && strcmp(PQgetvalue(res, r, 0), row->cols[DM_OUT_ID]) == 0) {
            result = DM_WRITTEN;
            r++;
        } else if (ok) {
            result = DM_NOT_APPLIED;
        }
        w->done(w->arg, row, result);
    }
    w->idle(w->arg);
}

void dm_writer_flush(struct dm_writer *w, int min)
{
    if (!TAILQ_EMPTY(&w->writing) || TAILQ_EMPTY(&w->ready) || w->nready < min || !dm_db_up(w->db))
        return;
    struct dm_strbuf arrays[DM_OUT_COUNT];
    memset(arrays, 0, sizeof arrays);
    for (int c = 0; c < DM_OUT_COUNT; c++)
        dm_strbuf_str(&arrays[c], "{");
    for (int n = 0; n < DM_WRITER_BATCH && !TAILQ_EMPTY(&w->ready); n++) {
        struct dm_outcome_row *row = TAILQ_FIRST(&w->ready);
        TAILQ_REMOVE(&w->ready, row, link);
        TAILQ_INSERT_TAIL(&w->writing, row, link);
        w->nready--;
        w->nwriting++;
        for (int c = 0; c < DM_OUT_COUNT; c++)
            array_add(&arrays[c], row->cols[c]);
    }
    const char *values[1 + DM_OUT_COUNT], *bound[DM_SQL_MAX_PARAMS];
    values[0] = w->me;
    for (int c = 0; c < DM_OUT_COUNT; c++) {
        dm_strbuf_str(&arrays[c], "}");
        values[1 + c] = arrays[c].s;
    }
    dm_stmt_bind(&w->sql, values, bound);
    if (!dm_db_send(w->db, w->sql.sql, w->sql.nparams, bound, written, w))
        requeue(w);
    for (int c = 0; c < DM_OUT_COUNT; c++)
        free(arrays[c].s);
}

void dm_writer_free(struct dm_writer *w)
{
    if (w == NULL)
        return;
    dm_db_withdraw(w->db, w);
    dm_stmt_free(&w->sql);
    free(w->me);
    free(w);
}
