/* The words of the domain, in one place: account states, message types, channels, pass steps. */
#ifndef DM_DOMAIN_H
#define DM_DOMAIN_H

#include <stddef.h>

/* Where a subscriber's account stands (DESIGN §6; dormant.account.state). */
enum dm_account_state {
    DM_ACCOUNT_ACTIVE,    /* charged; nothing pending */
    DM_ACCOUNT_PENDING,   /* asked; the deadline runs once the request is delivered */
    DM_ACCOUNT_SUSPENDED, /* billing stopped: no answer, or "Pause billing now" */
    DM_ACCOUNT_ERASED,    /* personal data erased after policy.erase_after */
    DM_ACCOUNT_STATE_COUNT,
};
extern const char *const dm_account_state_names[DM_ACCOUNT_STATE_COUNT];

/* The messages dormant sends (DESIGN §7; dormant.outbox.type, template names). */
enum dm_message_type {
    DM_MSG_REQUESTED,   /* confirmation.requested: the question, with its link */
    DM_MSG_REMINDER,    /* confirmation.reminder: the question again before the deadline */
    DM_MSG_CONFIRMED,   /* subscription.confirmed: "Keep" was chosen */
    DM_MSG_SUSPENDED,   /* subscription.suspended: billing stopped */
    DM_MSG_REACTIVATED, /* subscription.reactivated: billing active again */
    DM_MSG_ERASED,      /* subscriber.erased: personal data gone */
    DM_MSG_COUNT,
};
extern const char *const dm_message_types[DM_MSG_COUNT];
extern const size_t dm_n_message_types; /* DM_MSG_COUNT */

/* Delivery channels. */
enum dm_channel {
    DM_CH_WEBHOOK,
    DM_CH_EMAIL,
    DM_CH_COUNT,
};
extern const char *const dm_channel_names[DM_CH_COUNT];

/*
 * The steps of a pass, in the order a pass runs them. Each writing step
 * moves at most one batch per statement and tells whether anything due is
 * left; the pass repeats it until it is done.
 */
enum dm_step {
    DM_STEP_RESCHEDULE,       /* confirmed subscribers get the time to look at them again */
    DM_STEP_RESUME,           /* pending with activity newer than the request -> active */
    DM_STEP_REACTIVATE,       /* suspended whose billing is active again -> active */
    DM_STEP_REQUEST_RECHECK,  /* accounts whose recheck time came: ask them now or later */
    DM_STEP_REQUEST_INACTIVE, /* inactive rule, over the activity watermark */
    DM_STEP_REQUEST_NEVER,    /* never-active rule, over the created_at watermark */
    DM_STEP_WITHDRAW,         /* pending who left (billing, row, eligibility, exemption) */
    DM_STEP_REMIND,           /* reminders before the deadline */
    DM_STEP_SUSPEND,          /* deadline passed without an answer */
    DM_STEP_ERASE,            /* suspended longer than policy.erase_after */
    DM_STEP_SWEEP,            /* one page of every source row: finds, withdraws, comebacks */
    DM_STEP_COUNT,
};
extern const char *const dm_step_names[DM_STEP_COUNT];

#endif
