/* The outcome of a delivery round: retry schedule, Retry-After, dead on
 * exhaustion, 410, the operator's refusals, two channels at once. */
#include "testlib.h"

#include <string.h>

#include "config.h"
#include "interval.h"
#include "outbox_outcome.h"

static struct dm_interval steps[3];
static struct dm_interval_list retry = {steps, 3};

static void setup(void)
{
    char err[128];
    ck_assert(dm_interval_parse("1 minute", &steps[0], err, sizeof err));
    ck_assert(dm_interval_parse("10 minutes", &steps[1], err, sizeof err));
    ck_assert(dm_interval_parse("1 hour", &steps[2], err, sizeof err));
}

/* A round on the webhook alone (email not configured). */
static struct dm_round webhook_round(int attempts, enum dm_ch_result res)
{
    struct dm_round r = {.attempts = attempts};
    r.configured[DM_CH_WEBHOOK] = true;
    r.result[DM_CH_WEBHOOK] = res;
    r.cause[DM_CH_WEBHOOK] = "HTTP 500";
    r.retry_after_s[DM_CH_WEBHOOK] = r.retry_after_s[DM_CH_EMAIL] = -1;
    r.retry[DM_CH_WEBHOOK] = r.retry[DM_CH_EMAIL] = &retry;
    return r;
}

START_TEST(test_delivered_when_every_configured_channel_has)
{
    struct dm_round r = webhook_round(2, DM_CH_OK);
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.delivered && oc.any_ok && oc.done[DM_CH_WEBHOOK]);
    ck_assert(!oc.dead && !oc.counted && !oc.delayed);
    ck_assert_str_eq(oc.last_error, "");
}
END_TEST

/* Attempt n waits list[n]: 1 minute, then 10 minutes, then 1 hour. */
START_TEST(test_retry_follows_the_schedule)
{
    const char *want[] = {"1 minute", "10 minutes", "1 hour"};
    const int64_t ms[] = {60000, 600000, 3600000};
    for (int n = 0; n < 3; n++) {
        struct dm_round r = webhook_round(n, DM_CH_RETRY);
        struct dm_outcome oc;
        dm_outcome_decide(&r, &oc);
        ck_assert(!oc.delivered && !oc.dead && oc.counted && oc.delayed);
        ck_assert_int_eq(oc.delay_ms, ms[n]);
        ck_assert_str_eq(oc.delay_human, want[n]);
        ck_assert_str_eq(oc.last_error, "webhook: HTTP 500");
    }
}
END_TEST

/* After the last step the message is dead, with the channel to blame. */
START_TEST(test_dead_when_the_schedule_is_exhausted)
{
    struct dm_round r = webhook_round(3, DM_CH_RETRY);
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.dead && oc.counted && !oc.delayed && !oc.delivered);
    ck_assert_str_eq(oc.dead_channel, "webhook");
    /* A permanent failure is dead at the first attempt. */
    r = webhook_round(0, DM_CH_DEAD);
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.dead && oc.counted);
}
END_TEST

/* Retry-After replaces the step, capped at a day. */
START_TEST(test_retry_after_is_honoured_and_capped)
{
    struct dm_round r = webhook_round(0, DM_CH_RETRY);
    r.retry_after_s[DM_CH_WEBHOOK] = 7;
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.delayed && oc.counted);
    ck_assert_int_eq(oc.delay_ms, 7000);
    ck_assert_str_eq(oc.delay, "7 seconds");
    r.retry_after_s[DM_CH_WEBHOOK] = 10 * 86400;
    dm_outcome_decide(&r, &oc);
    ck_assert_int_eq(oc.delay_ms, (int64_t)DM_RETRY_AFTER_MAX_S * 1000);
    /* Still dead once the schedule is exhausted, whatever the server asks. */
    r = webhook_round(3, DM_CH_RETRY);
    r.retry_after_s[DM_CH_WEBHOOK] = 1;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.dead);
}
END_TEST

/* 410: not counted, not delayed, not dead: the message waits. */
START_TEST(test_gone_waits_without_counting)
{
    struct dm_round r = webhook_round(3, DM_CH_GONE);
    r.cause[DM_CH_WEBHOOK] = "HTTP 410";
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(!oc.dead && !oc.counted && !oc.delayed && !oc.delivered);
    ck_assert_str_eq(oc.last_error, "webhook: HTTP 410");
}
END_TEST

/* The operator's refusal waits at the current step and never kills. */
START_TEST(test_operator_refusal_never_counts)
{
    struct dm_round r = webhook_round(0, DM_CH_NONE);
    r.configured[DM_CH_WEBHOOK] = false;
    r.configured[DM_CH_EMAIL] = true;
    r.result[DM_CH_EMAIL] = DM_CH_OPERATOR;
    r.cause[DM_CH_EMAIL] = "MAIL FROM: SMTP 550 5.7.1";
    r.attempts = 9; /* past the end of the list: the last step */
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(!oc.dead && !oc.counted && oc.delayed);
    ck_assert_int_eq(oc.delay_ms, 3600000);
    ck_assert_str_eq(oc.delay_human, "1 hour");
}
END_TEST

/* Two channels: the longest delay wins; one delivered channel is kept
 * (done) while the other retries; a dead one kills the message unless the
 * other channel completes it. */
START_TEST(test_two_channels)
{
    struct dm_round r = webhook_round(1, DM_CH_RETRY);
    r.configured[DM_CH_EMAIL] = true;
    r.result[DM_CH_EMAIL] = DM_CH_OK;
    struct dm_outcome oc;
    dm_outcome_decide(&r, &oc);
    ck_assert(!oc.delivered && oc.any_ok && oc.done[DM_CH_EMAIL] && !oc.done[DM_CH_WEBHOOK]);
    ck_assert_int_eq(oc.delay_ms, 600000);

    r.result[DM_CH_EMAIL] = DM_CH_RETRY;
    r.retry_after_s[DM_CH_WEBHOOK] = 5;
    r.cause[DM_CH_EMAIL] = "SMTP 451";
    dm_outcome_decide(&r, &oc);
    ck_assert_int_eq(oc.delay_ms, 600000); /* email's 10 minutes beat 5 s */
    ck_assert_str_eq(oc.last_error, "webhook: HTTP 500; email: SMTP 451");

    /* Email had delivered in an earlier round; the webhook dies now. */
    r = webhook_round(3, DM_CH_RETRY);
    r.configured[DM_CH_EMAIL] = true;
    r.done[DM_CH_EMAIL] = true;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.dead && oc.done[DM_CH_EMAIL]);
    /* Delivered once the last channel delivers: the webhook earlier,
     * email now. */
    r = webhook_round(0, DM_CH_NONE);
    r.done[DM_CH_WEBHOOK] = true;
    r.configured[DM_CH_EMAIL] = true;
    r.result[DM_CH_EMAIL] = DM_CH_OK;
    dm_outcome_decide(&r, &oc);
    ck_assert(oc.delivered && !oc.dead);
}
END_TEST

static Suite *outcome_suite(void)
{
    Suite *s = suite_create("outbox_outcome");
    TCase *tc = tcase_create("decide");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_delivered_when_every_configured_channel_has);
    tcase_add_test(tc, test_retry_follows_the_schedule);
    tcase_add_test(tc, test_dead_when_the_schedule_is_exhausted);
    tcase_add_test(tc, test_retry_after_is_honoured_and_capped);
    tcase_add_test(tc, test_gone_waits_without_counting);
    tcase_add_test(tc, test_operator_refusal_never_counts);
    tcase_add_test(tc, test_two_channels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(outcome_suite());
}
