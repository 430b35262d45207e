/* A subscriber's answer (keep or pause) as one statement, and the token lookup behind the page. */
#ifndef DM_ANSWER_H
#define DM_ANSWER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

struct dm_sql_names;

/* What the subscriber (or an operator on their behalf) chose. */
enum dm_answer_kind {
    DM_ANSWER_KEEP,  /* "Keep my subscription": pending -> active, event confirmed */
    DM_ANSWER_PAUSE, /* "Pause billing now": pending -> suspended, event declined */
};

/* How the statement finds the subscriber. */
enum dm_answer_key {
    DM_ANSWER_BY_TOKEN, /* $1 = lower-case hex SHA-256 of the token (dm_token_hash_hex) */
    DM_ANSWER_BY_ID,    /* $1 = the subscriber id as text (dormantctl confirm) */
};

/*
 * Builds the statement that applies an answer (lib/sql/answer/keep.sql or
 * pause.sql), for the configuration whose names are n, newly allocated. It is ONE
 * statement (data-modifying CTEs), so the account, the event, the outbox
 * message, the source billing column (pause: written only where it holds
 * the active value), the removal of the subscriber's tokens, the retirement
 * of confirmation messages not delivered yet (dead, "superseded") and the
 * NOTIFY on dormant_outbox commit together or not at all. It applies only to a
 * subscriber who is pending (and, by token, only for the token's own
 * cycle); a row lock makes concurrent answers apply exactly once.
 *
 * Parameters: $1 token hash hex or subscriber id; $2 actor ("subscriber",
 * "operator:NAME"); $3 reason text for the event detail, or NULL.
 * Result: one row (subscriber_id text, outbox id, NOTIFY's void, the
 * subscriber's locale) when applied, none when the token or subscriber was
 * not pending.
 */
char *dm_answer_sql(const struct dm_sql_names *n, enum dm_answer_kind kind, enum dm_answer_key key);

/*
 * Builds the read-only lookup behind GET /c/<token>, newly allocated.
 * Parameters: $1 token hash hex, $2 policy.confirm_within. Result: one row (subscriber_id text,
 * deadline date "YYYY-MM-DD" in UTC, deadline time "HH:MM" in UTC, locale
 * or NULL) when the token belongs to its subscriber's current pending
 * request, none otherwise. While the request is not yet delivered the
 * deadline shown is now() + policy.confirm_within, never later than the one
 * that will be enforced.
 */
char *dm_answer_lookup_sql(const struct dm_sql_names *n);

/* What dm_answer_apply() came to. */
enum dm_answer_result {
    DM_ANSWER_APPLIED,     /* the transition happened */
    DM_ANSWER_NOT_PENDING, /* nothing to answer: unknown id, or not pending */
    DM_ANSWER_FAILED,      /* the statement failed; err says why */
};

/*
 * Blocking variant for dormantctl: applies kind to subscriber id on conn,
 * audited with actor and reason (may be NULL). Only for tools outside the
 * event loop.
 */
/* err gets one line: PostgreSQL's primary message and SQLSTATE (22P02 for a malformed id). */
enum dm_answer_result dm_answer_apply(PGconn *conn, const struct dm_sql_names *names,
                                      enum dm_answer_kind kind, const char *id, const char *actor,
                                      const char *reason, char *err, size_t errlen) DM_MUST_CHECK;

#endif
