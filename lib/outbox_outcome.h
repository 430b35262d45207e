/* What a delivery round comes to: the outbox's retry rules, as a pure
 * function of what each channel did. */
#ifndef DM_OUTBOX_OUTCOME_H
#define DM_OUTBOX_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#include "domain.h"

struct dm_interval_list;

/* Retry-After is honoured up to this many seconds. */
#define DM_RETRY_AFTER_MAX_S 86400

/* What one channel's attempt came to. */
enum dm_ch_result {
    DM_CH_NONE,     /* not tried this round */
    DM_CH_OK,       /* 2xx / 250 (or nothing to send on this channel) */
    DM_CH_RETRY,    /* failed; try again after the channel's next delay */
    DM_CH_DEAD,     /* failed for good (SMTP 5xx, no usable address) */
    DM_CH_GONE,     /* webhook 410: the endpoint is disabled, the message waits */
    DM_CH_OPERATOR, /* refused for the operator's reasons (SMTP sender, relay,
                       login): retried at the current delay, never counted */
};

/* One message's round, as the dispatcher saw it. */
struct dm_round {
    int attempts;                                      /* failed attempts before this round */
    bool configured[DM_CH_COUNT];                      /* the channel's key is set */
    bool done[DM_CH_COUNT];                            /* delivered in an earlier round */
    enum dm_ch_result result[DM_CH_COUNT];             /* this round */
    int64_t retry_after_s[DM_CH_COUNT];                /* the server's Retry-After, -1 = none */
    const char *cause[DM_CH_COUNT];                    /* why a channel failed (loggable) */
    const struct dm_interval_list *retry[DM_CH_COUNT]; /* webhook.retry, email.retry */
};

/* What the row becomes. */
struct dm_outcome {
    bool done[DM_CH_COUNT]; /* channels that have delivered, this round included */
    bool delivered;         /* every configured channel has delivered */
    bool dead;              /* failed for good (never when delivered) */
    bool counted;           /* the round counts as a failed attempt */
    bool any_ok;            /* some channel delivered this round */
    bool delayed;           /* delay holds the time to the next attempt */
    int64_t delay_ms;
    char delay[128];       /* as a PostgreSQL interval literal */
    char delay_human[128]; /* for the log */
    char last_error[512];  /* "webhook: ...; email: ...", "" when none failed */
    char dead_channel[16]; /* the channel that failed for good, or "" */
};

/*
 * The retry rules of DESIGN section 7. A failed channel retries after the
 * delay its retry list gives for the attempt (list[attempts]), or after the
 * server's Retry-After (capped at DM_RETRY_AFTER_MAX_S) when it sent one;
 * with several failing, the longest delay wins. A failure past the end of
 * the list, or a permanent one (DM_CH_DEAD), makes the message dead unless
 * every configured channel has delivered. A 410 (DM_CH_GONE) neither counts
 * nor delays: the message waits for the endpoint to be enabled again. An
 * operator's refusal (DM_CH_OPERATOR) delays at the current step of the
 * list and never counts, so it never kills a message.
 */
void dm_outcome_decide(const struct dm_round *r, struct dm_outcome *out);

#endif
