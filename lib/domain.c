/* The words of the domain, in one place: account states, message types, channels, pass steps. */
#include "domain.h"

const char *const dm_account_state_names[DM_ACCOUNT_STATE_COUNT] = {
    [DM_ACCOUNT_ACTIVE] = "active",
    [DM_ACCOUNT_PENDING] = "pending",
    [DM_ACCOUNT_SUSPENDED] = "suspended",
    [DM_ACCOUNT_ERASED] = "erased",
};

const char *const dm_message_types[DM_MSG_COUNT] = {
    [DM_MSG_REQUESTED] = "confirmation.requested",
    [DM_MSG_REMINDER] = "confirmation.reminder",
    [DM_MSG_CONFIRMED] = "subscription.confirmed",
    [DM_MSG_SUSPENDED] = "subscription.suspended",
    [DM_MSG_REACTIVATED] = "subscription.reactivated",
    [DM_MSG_ERASED] = "subscriber.erased",
};
const size_t dm_n_message_types = DM_MSG_COUNT;

const char *const dm_channel_names[DM_CH_COUNT] = {
    [DM_CH_WEBHOOK] = "webhook",
    [DM_CH_EMAIL] = "email",
};

const char *const dm_step_names[DM_STEP_COUNT] = {
    [DM_STEP_RESCHEDULE] = "reschedule",
    [DM_STEP_RESUME] = "resume",
    [DM_STEP_REACTIVATE] = "reactivate",
    [DM_STEP_REQUEST_RECHECK] = "request_recheck",
    [DM_STEP_REQUEST_INACTIVE] = "request_inactive",
    [DM_STEP_REQUEST_NEVER] = "request_never_active",
    [DM_STEP_WITHDRAW] = "withdraw",
    [DM_STEP_REMIND] = "remind",
    [DM_STEP_SUSPEND] = "suspend",
    [DM_STEP_ERASE] = "erase",
    [DM_STEP_SWEEP] = "sweep",
};
