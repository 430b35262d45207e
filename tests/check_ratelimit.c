/* The per-address limiter: trips after the burst, refills with time, stays bounded. */
#include "testlib.h"

#include <stdio.h>

#include "ratelimit.h"

START_TEST(test_trips_after_burst_and_refills)
{
    struct dm_ratelimit *rl = dm_ratelimit_new(64, 5, 1000);
    int64_t t = 1000000;

    ck_assert(!dm_ratelimit_blocked(rl, "192.0.2.1", t));
    for (int i = 0; i < 4; i++) {
        dm_ratelimit_charge(rl, "192.0.2.1", t);
        ck_assert_msg(!dm_ratelimit_blocked(rl, "192.0.2.1", t), "blocked after %d", i + 1);
    }
    dm_ratelimit_charge(rl, "192.0.2.1", t);
    ck_assert(dm_ratelimit_blocked(rl, "192.0.2.1", t));
    /* Others are not affected. */
    ck_assert(!dm_ratelimit_blocked(rl, "192.0.2.2", t));
    /* One credit comes back per refill period; one credit is enough to try. */
    ck_assert(dm_ratelimit_blocked(rl, "192.0.2.1", t + 999));
    ck_assert(!dm_ratelimit_blocked(rl, "192.0.2.1", t + 1000));
    /* Spending it blocks again at once. */
    dm_ratelimit_charge(rl, "192.0.2.1", t + 1000);
    ck_assert(dm_ratelimit_blocked(rl, "192.0.2.1", t + 1000));
    /* Hammering while blocked does not push the release further than a burst. */
    for (int i = 0; i < 100; i++)
        dm_ratelimit_charge(rl, "192.0.2.1", t + 1000);
    ck_assert(!dm_ratelimit_blocked(rl, "192.0.2.1", t + 2000));
    dm_ratelimit_free(rl);
}
END_TEST

START_TEST(test_bounded_under_many_addresses)
{
    struct dm_ratelimit *rl = dm_ratelimit_new(16, 3, 1000);
    char key[64];
    int64_t t = 5000;

    /* Trip one address, then flood the table with thousands of others. */
    for (int i = 0; i < 3; i++)
        dm_ratelimit_charge(rl, "198.51.100.1", t);
    ck_assert(dm_ratelimit_blocked(rl, "198.51.100.1", t));
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        dm_ratelimit_charge(rl, key, t);
    }
    /* Still answers (memory is fixed); a fully refilled address is forgotten. */
    ck_assert(!dm_ratelimit_blocked(rl, "10.0.0.1", t + 10000));
    ck_assert(!dm_ratelimit_blocked(rl, "198.51.100.1", t + 3000));
    dm_ratelimit_free(rl);
}
END_TEST

START_TEST(test_retry_after_says_when_one_credit_is_back)
{
    struct dm_ratelimit *rl = dm_ratelimit_new(64, 3, 1000);
    int64_t t = 7000;

    ck_assert_int_eq(dm_ratelimit_retry_ms(rl, "192.0.2.9", t), 0);
    for (int i = 0; i < 10; i++)
        dm_ratelimit_charge(rl, "192.0.2.9", t);
    ck_assert(dm_ratelimit_blocked(rl, "192.0.2.9", t));
    ck_assert_int_eq(dm_ratelimit_retry_ms(rl, "192.0.2.9", t), 1000);
    ck_assert_int_eq(dm_ratelimit_retry_ms(rl, "192.0.2.9", t + 400), 600);
    ck_assert(dm_ratelimit_blocked(rl, "192.0.2.9", t + 999));
    ck_assert_int_eq(dm_ratelimit_retry_ms(rl, "192.0.2.9", t + 1000), 0);
    ck_assert(!dm_ratelimit_blocked(rl, "192.0.2.9", t + 1000));
    dm_ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("buckets");

    tcase_add_test(tc, test_trips_after_burst_and_refills);
    tcase_add_test(tc, test_bounded_under_many_addresses);
    tcase_add_test(tc, test_retry_after_says_when_one_credit_is_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(ratelimit_suite());
}
