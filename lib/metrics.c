/* In-process counters behind /metrics and the pass summary. */
#include "metrics.h"

const char *const dm_transition_names[DM_T_COUNT] = {
    "requested", "reminded",    "confirmed", "declined",        "resumed",
    "suspended", "reactivated", "erased",    "delivery_failed",
};
const char *const dm_channel_names[DM_CH_COUNT] = {"webhook", "email"};
const char *const dm_delivery_outcome_names[DM_DLV_COUNT] = {"delivered", "retry", "dead"};
const char *const dm_guard_names[DM_GUARD_COUNT] = {"stale_activity", "backlog", "rate"};
