/* Claiming outbox rows: the claim, release and next-due statements, and
 * the claim's position in outbox_due. */
#ifndef DM_OUTBOX_CLAIM_H
#define DM_OUTBOX_CLAIM_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

struct dm_claimer;
struct dm_db;
struct dm_sql_names;

/* Columns of a claimed row (lib/sql/outbox/claim.sql). */
enum {
    DM_CLAIM_ID,
    DM_CLAIM_TYPE,
    DM_CLAIM_SUBSCRIBER,
    DM_CLAIM_ATTEMPTS,
    DM_CLAIM_DONE_WEBHOOK, /* "t" when the webhook delivered it before */
    DM_CLAIM_DONE_EMAIL,
    DM_CLAIM_BODY, /* the payload as sent: the webhook's body */
    DM_CLAIM_DEADLINE,
    DM_CLAIM_STATED, /* the deadline a request states, or NULL */
    DM_CLAIM_EPOCH,  /* now, Unix seconds: webhook-timestamp */
    DM_CLAIM_DATE,   /* now, RFC 5322: the e-mail's Date */
    DM_CLAIM_EMAIL,
    DM_CLAIM_LOCALE,
    DM_CLAIM_CONFIRM_URL,
    DM_CLAIM_LAST_ACTIVITY,
    DM_CLAIM_RULE,
    DM_CLAIM_REASON,
    DM_CLAIM_AFTER_AT, /* where the claim ended in outbox_due: next_attempt_at */
    DM_CLAIM_AFTER_ID, /* and id */
    DM_CLAIM_COUNT,
};

/* What a claim asks for. */
struct dm_claim_args {
    int limit;            /* rows at most */
    const char *lease;    /* how long the claim holds them, an interval */
    const char *channels; /* the active channels, a text[] literal */
    const char *confirm;  /* the file's policy.confirm_within, an interval */
};

/* A claim's answer: NULL when the connection was lost (it may have
 * committed: the rows come back when their lease ends), else the result,
 * failed (logged here) or with one row per claimed message. */
typedef void (*dm_claimed_fn)(void *arg, const PGresult *res);
/* Milliseconds until a row becomes due, or -1 when unknown or paused. */
typedef void (*dm_next_due_fn)(void *arg, int64_t ms);

/*
 * Claims for the instance named me (claimed_by) on db. A claim reads
 * outbox_due from where the previous one ended, and from its head when
 * dm_claimer_rewind() asked for it, when the connection came back, and at
 * least every head_every_ms (claim.sql says why). One claim and one
 * next-due query at a time; the callbacks get arg.
 */
struct dm_claimer *dm_claimer_new(struct dm_db *db, const char *me, int64_t head_every_ms,
                                  void *arg);

/* Renders the statements for the next names (kept alive by the caller). */
void dm_claimer_reconfigure(struct dm_claimer *c, const struct dm_sql_names *names);

/* True while a claim is in flight. */
bool dm_claimer_busy(const struct dm_claimer *c);

/* Sends a claim; false when one is in flight or the connection is down. */
bool dm_claimer_claim(struct dm_claimer *c, const struct dm_claim_args *a, dm_claimed_fn fn);

/* The next claim reads from the head of outbox_due (new messages were
 * written, or the connection came back). */
void dm_claimer_rewind(struct dm_claimer *c);

/* Asks when the next row for channels becomes due; false when a query is
 * already in flight or cannot be sent. */
bool dm_claimer_next_due(struct dm_claimer *c, const char *channels, dm_next_due_fn fn);

/* Hands claimed, unstarted rows back, due at once for any instance: ids
 * is a bigint[] literal. */
void dm_claimer_release(struct dm_claimer *c, const char *ids);

void dm_claimer_free(struct dm_claimer *c);

#endif
