/* In-process counters behind /metrics and the pass summary. */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "domain.h"

/* Lifecycle transitions, counted as this process performs them. */
enum dm_transition {
    DM_T_REQUESTED,
    DM_T_REMINDED,
    DM_T_CONFIRMED,
    DM_T_DECLINED,
    DM_T_RESUMED,
    DM_T_SUSPENDED,
    DM_T_REACTIVATED,
    DM_T_ERASED,
    DM_T_DELIVERY_FAILED,
    DM_T_WITHDRAWN,
    DM_T_COUNT,
};

/* What one delivery attempt came to. */
enum dm_delivery_outcome {
    DM_DLV_DELIVERED, /* 2xx / 250 */
    DM_DLV_RETRY,     /* failed, will be tried again */
    DM_DLV_DEAD,      /* failed for good */
    DM_DLV_COUNT,
};

/* Safety guards of DESIGN §2 that can hold the pass back. */
enum dm_guard {
    DM_GUARD_STALE_ACTIVITY, /* newest activity older than limits.max_activity_lag */
    DM_GUARD_BACKLOG,        /* backlog over limits.max_backlog_fraction, not accepted */
    DM_GUARD_RATE,           /* limits.max_requests_per_day reached */
    DM_GUARD_COUNT,
};

/* Counters and gauges kept by the daemon; state counts (accounts by state,
 * outbox by delivery state) are read from the database at scrape time. */
struct dm_metrics {
    uint64_t transitions[DM_T_COUNT];
    uint64_t deliveries[DM_CH_COUNT][DM_DLV_COUNT];
    uint64_t passes;          /* passes completed */
    uint64_t pass_failures;   /* passes that ended in an error */
    double last_pass_seconds; /* duration of the last completed pass */
    double last_pass_unix;    /* when it ended (Unix seconds, 0 = never) */
    bool guards[DM_GUARD_COUNT];
    bool db_up;  /* the pass connection is up */
    bool leader; /* this process holds the scanning lease */
    /* a channel this process stopped using (the webhook after 410 Gone,
     * until reload): its messages wait */
    bool endpoint_disabled[DM_CH_COUNT];
};

/* Where an outbox row stands. */
enum dm_outbox_state {
    DM_OUTBOX_PENDING,   /* neither delivered nor dead: due or waiting for a retry */
    DM_OUTBOX_DELIVERED, /* delivered_at set */
    DM_OUTBOX_DEAD,      /* dead_at set: retries exhausted */
    DM_OUTBOX_STATE_COUNT,
};

/* What one scrape read beside the in-process counters. */
struct dm_metrics_scrape {
    bool counted; /* the database answered: accounts and outbox below are valid */
    int64_t accounts[DM_ACCOUNT_STATE_COUNT];
    int64_t outbox[DM_OUTBOX_STATE_COUNT];
    bool paused;  /* this process (SIGUSR1) or the database (dormantctl pause) */
    bool http_up; /* the page's own connection is up */
    /* limits.poll_interval in force: alerts count staleness in it */
    double poll_interval_seconds;
};

extern const char *const dm_transition_names[DM_T_COUNT];
extern const char *const dm_delivery_outcome_names[DM_DLV_COUNT];
extern const char *const dm_guard_names[DM_GUARD_COUNT];
extern const char *const dm_outbox_state_names[DM_OUTBOX_STATE_COUNT];

/*
 * Renders everything in the Prometheus text exposition format (version
 * 0.0.4), every name prefixed dormant_, each family with HELP and TYPE;
 * newly allocated. Database counts appear only when s->counted.
 */
char *dm_metrics_render(const struct dm_metrics *m, const struct dm_metrics_scrape *s);

#endif
