/* Non-blocking PostgreSQL connections driven by the event loop. */
#ifndef DM_DB_H
#define DM_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "dormant.h"

struct event_base;
struct dm_db;

/*
 * Called once per dm_db_send(), from the event loop. res is the statement's
 * result (the last one, or the first error, when sql holds several
 * statements); NULL when the connection was lost before an answer came. The
 * db clears res after the callback returns: do not PQclear() it or keep it.
 * The callback may send further queries on any db, but must not free the db
 * it was called from.
 */
typedef void (*dm_db_result_fn)(void *arg, PGresult *res);

/* Connection came up (up = true) or went away (false). */
typedef void (*dm_db_state_fn)(void *arg, bool up);

/* A NOTIFY arrived on a channel this connection LISTENs on. */
typedef void (*dm_db_notify_fn)(void *arg, const char *channel, const char *payload);

/*
 * A connection that keeps itself up: dm_db_start() connects in the
 * background and, whenever the connection fails or is lost, reconnects with
 * capped exponential backoff and jitter, logging one line when an outage
 * starts and one when it ends. Queries are queued and sent one at a time, in
 * order; while the connection is down dm_db_send() refuses new ones.
 * name appears in logs ("pass", "outbox", "http") and in application_name.
 */
struct dm_db *dm_db_new(struct event_base *base, const char *name, const char *conninfo);

/* Adds a listener for the connection coming up and going away; every
 * listener is called, in the order they were added (at most four). */
void dm_db_on_state(struct dm_db *db, dm_db_state_fn fn, void *arg);

/* Sets the one listener for notifications. */
void dm_db_on_notify(struct dm_db *db, dm_db_notify_fn fn, void *arg);

/* Begins connecting; returns at once. */
void dm_db_start(struct dm_db *db);

/* Uses a new connection string from the next connection on; when it differs
 * from the current one, the connection is closed and reopened once idle. */
void dm_db_set_conninfo(struct dm_db *db, const char *conninfo);

/* Queues a statement with text parameters (NULL entries are SQL NULL).
 * Returns false, calling nothing, when the connection is not up. */
bool dm_db_send(struct dm_db *db, const char *sql, int nparams, const char *const *values,
                dm_db_result_fn fn, void *arg) DM_MUST_CHECK;

/* Takes back the statement queued with arg if it has not been sent yet: it
 * will not run and its callback is not called (the one exception to "once
 * per dm_db_send()"). False when there is none queued: it is in flight or
 * done, and its callback comes as usual. */
bool dm_db_withdraw(struct dm_db *db, void *arg);

bool dm_db_up(const struct dm_db *db);

/* True when nothing is queued or in flight. */
bool dm_db_idle(const struct dm_db *db);

/* Closes the connection for good: queued queries are called back with NULL
 * (while the db itself stays valid, so those callbacks may still look at
 * it or send, which is refused), and it never reconnects. The daemon closes
 * every connection before freeing the modules whose callbacks are queued. */
void dm_db_close(struct dm_db *db);

/* Closes (if not yet closed) and frees. */
void dm_db_free(struct dm_db *db);

/* True when res is a successful command or tuples result. */
bool dm_db_ok(const PGresult *res);

/* A one-line description of why res failed ("connection lost" for NULL),
 * with PostgreSQL's SQLSTATE; points into res or static storage. */
const char *dm_db_error(const PGresult *res);

#endif
