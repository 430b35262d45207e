/* The outbox's outcome writer: the outcomes of many deliveries, recorded
 * in one statement. */
#ifndef DM_OUTBOX_WRITER_H
#define DM_OUTBOX_WRITER_H

#include <stdbool.h>
#include <sys/queue.h>

struct dm_db;
struct dm_sql_names;
struct dm_writer;

/* Columns of an outcome (lib/sql/outbox/outcome.sql takes one array each). */
enum {
    DM_OUT_ID,        /* outbox id */
    DM_OUT_DONE,      /* channels_done afterwards, a text[] literal */
    DM_OUT_DELIVERED, /* "t": every configured channel has delivered */
    DM_OUT_STATED,    /* deadline the message stated, or NULL */
    DM_OUT_DEAD,      /* "t": failed for good */
    DM_OUT_DELAY,     /* interval until the next attempt, or NULL (at once) */
    DM_OUT_ERROR,     /* last_error, or NULL (unchanged) */
    DM_OUT_CHANNEL,   /* channel that failed for good, for the event */
    DM_OUT_COUNTED,   /* "t": the round counts as a failed attempt */
    DM_OUT_COUNT,
};

/* One row's outcome, owned by the caller (embedded in its job) and linked
 * into the writer from dm_writer_add() until the done callback. */
struct dm_outcome_row {
    TAILQ_ENTRY(dm_outcome_row) link;
    char *cols[DM_OUT_COUNT]; /* NULL is SQL NULL; the caller frees them */
};
TAILQ_HEAD(dm_outcome_rows, dm_outcome_row);

/* How a row's outcome ended. */
enum dm_writer_result {
    DM_WRITTEN,     /* recorded: the row was still claimed by this instance, open */
    DM_NOT_APPLIED, /* the row was claimed again or closed meanwhile */
    DM_NOT_WRITTEN, /* the statement failed (logged once by the writer) */
};

/* Called for each row of a statement that ended. */
typedef void (*dm_writer_done_fn)(void *arg, struct dm_outcome_row *row,
                                  enum dm_writer_result result);
/* Called once a statement's rows are all done. */
typedef void (*dm_writer_idle_fn)(void *arg);

/*
 * A writer on db for the instance named me (claimed_by). Outcomes wait in
 * order until dm_writer_flush(); one statement is in flight at a time, of
 * at most DM_WRITER_BATCH rows. A statement lost with the connection is
 * sent again whole once the caller flushes after the connection is back:
 * it applies only to rows still claimed by me and open, so it is safe to
 * repeat. A statement that fails reports its rows as not applied (they
 * stay claimed until the lease ends, then are due again).
 */
#define DM_WRITER_BATCH 500

struct dm_writer *dm_writer_new(struct dm_db *db, const char *me, dm_writer_done_fn done,
                                dm_writer_idle_fn idle, void *arg);

/* Renders the statement for the next names (kept alive by the caller). */
void dm_writer_reconfigure(struct dm_writer *w, const struct dm_sql_names *names);

void dm_writer_add(struct dm_writer *w, struct dm_outcome_row *row);

/* Sends what waits, unless a statement is in flight, the connection is
 * down, or (with min > 0) fewer than min rows wait: a statement costs about
 * as much for 10 rows as for 100, so a caller whose deliveries are all busy
 * waits for a batch. */
void dm_writer_flush(struct dm_writer *w, int min);

/* Rows added and not yet done (waiting or in flight). */
int dm_writer_pending(const struct dm_writer *w);

void dm_writer_free(struct dm_writer *w);

#endif
