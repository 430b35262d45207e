/* The scanning lease and the instance's report into the database. */
#ifndef DM_LEASE_H
#define DM_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "dormant.h"

struct dm_config;
struct dm_sql_names;

/*
 * One instance of dormantd as the database knows it. Leadership is a row,
 * {S}.lease (holder, epoch, expires_at on the database's clock), never a
 * session lock: behind PgBouncer in transaction pooling every instance may
 * be on the same server connection, so nothing of a session is relied on.
 *
 * Each poll, dm_lease_poll() writes this instance's row of {S}.instance
 * (host, pid, version, its own pause, disabled endpoints) and, when asked
 * to lead, renews the lease it holds or takes over one that expired (the
 * epoch grows by one at each takeover). Every transaction of a pass opens
 * with dm_lease_begin_sql(): the fence renews the lease of this epoch or
 * fails the transaction (SQLSTATE DL001), so a leader whose lease lapsed or
 * was taken over commits no pass step. The fence's row lock makes a
 * takeover wait for the step in flight.
 *
 * Timings, from limits.poll_interval: the lease lasts three poll intervals
 * (at least DM_LEASE_MIN_MS) and is renewed at each poll and by every pass
 * transaction, so a killed leader is replaced within the lease time plus
 * one poll interval.
 */
#define DM_LEASE_MIN_MS 5000

/* SQLSTATE of a fence that refused: the lease is no longer this instance's. */
#define DM_LEASE_LOST_SQLSTATE "DL001"

/* What a poll learned. */
struct dm_lease_state {
    bool ok;          /* the statement succeeded (false: nothing below is known) */
    bool leader;      /* this instance holds the lease */
    bool taken;       /* ... and has just taken it over (a new epoch) */
    bool paused_db;   /* dormantctl pause */
    bool held;        /* another instance holds an unexpired lease */
    char holder[64];  /* the lease's holder instance id ("" = none) */
    char host[256];   /* its host and pid, when it reported */
    long long pid;    /* 0 = unknown */
    char expires[64]; /* the lease's expiry, ISO 8601 UTC */
    char error[512];  /* why the poll failed */
};

typedef void (*dm_lease_fn)(void *arg, const struct dm_lease_state *st);

/* What an instance says of itself at each report, beside its identity. */
struct dm_lease_report {
    bool paused;           /* its own pause (SIGUSR1), not dormantctl pause */
    bool webhook_disabled; /* a 410 Gone disabled the webhook until reload */
};

/* Fills r for a report (called from the event loop at each one). */
typedef void (*dm_lease_report_fn)(void *owner, struct dm_lease_report *r);

struct dm_lease;

/* The instance's identity (a fresh random id, host, pid); report (may be
 * NULL: not paused, nothing disabled) tells what else goes into each
 * report. */
struct dm_lease *dm_lease_new(dm_lease_report_fn report, void *owner);
void dm_lease_free(struct dm_lease *l);

/* This instance's id (12 hex digits) and "host:pid". */
const char *dm_lease_id(const struct dm_lease *l);
const char *dm_lease_name(const struct dm_lease *l);

/* True while this instance believes it holds the lease. */
bool dm_lease_leader(const struct dm_lease *l);

/* Forgets the lease (the connection was lost: the next poll renews it if
 * it is still this instance's). */
void dm_lease_forget(struct dm_lease *l);

/* The lease's duration in ms for cfg: three poll intervals, at least
 * DM_LEASE_MIN_MS. */
int64_t dm_lease_ms(const struct dm_config *cfg);

/* Sends the poll on db, for the configuration cfg whose names are n:
 * report (dry_run: this instance writes nothing), and take or renew the
 * lease when want; fn (may be NULL) gets the outcome. False when db is
 * down. */
bool dm_lease_poll(struct dm_lease *l, struct dm_db *db, const struct dm_config *cfg,
                   const struct dm_sql_names *n, bool dry_run, bool want, dm_lease_fn fn,
                   void *arg) DM_MUST_CHECK;

/* Sends the release (graceful stop) on db; fn is called when it is done. */
bool dm_lease_release(struct dm_lease *l, struct dm_db *db, const struct dm_sql_names *n,
                      dm_db_result_fn fn, void *arg) DM_MUST_CHECK;

/* The simple query that opens a pass transaction: settings for this
 * transaction, and the fence for holder at epoch (holder NULL: no fence,
 * for dry runs). Newly allocated. */
char *dm_lease_begin_sql(const struct dm_sql_names *n, const char *holder, long long epoch,
                         int64_t lease_ms);

/* The same for this instance and its current epoch. */
char *dm_lease_begin(const struct dm_lease *l, const struct dm_config *cfg,
                     const struct dm_sql_names *n, bool fence);

#endif
