/* The duration parser: PostgreSQL interval words, strictly. */
#include "testlib.h"

#include <string.h>

#include "interval.h"

/* One parser case: input, whether it parses, and what it must give. */
struct interval_case {
    const char *text;
    bool ok;
    bool set;
    int32_t months;
    int32_t days;
    int64_t usec;
};

#define SEC INT64_C(1000000)

static const struct interval_case cases[] = {
    {"90 seconds", true, true, 0, 0, 90 * SEC},
    {"30 days", true, true, 0, 30, 0},
    {"2 years", true, true, 24, 0, 0},
    {"1 year 6 months", true, true, 18, 0, 0},
    {"1 day", true, true, 0, 1, 0},
    {"2 weeks 3 days", true, true, 0, 17, 0},
    {"1 minute", true, true, 0, 0, 60 * SEC},
    {"5 hours", true, true, 0, 0, 5 * 3600 * SEC},
    {"250 milliseconds", true, true, 0, 0, 250000},
    {"1 mon", true, true, 1, 0, 0},
    {"3 MINUTES", true, true, 0, 0, 180 * SEC},
    {"  15 seconds  ", true, true, 0, 0, 15 * SEC},
    {"1 hour 30 minutes", true, true, 0, 0, 5400 * SEC},
    {"0 days", true, true, 0, 0, 0},
    {"", true, false, 0, 0, 0},
    {"   ", true, false, 0, 0, 0},
    {"30", false, false, 0, 0, 0},
    {"days", false, false, 0, 0, 0},
    {"30 dayz", false, false, 0, 0, 0},
    {"-5 days", false, false, 0, 0, 0},
    {"1.5 days", false, false, 0, 0, 0},
    {"30 days ago", false, false, 0, 0, 0},
    {"1 day,2 hours", false, false, 0, 0, 0},
    {"99999999999 years", false, false, 0, 0, 0},
    {"P1D", false, false, 0, 0, 0},
};

START_TEST(test_parse_table)
{
    const struct interval_case *c = &cases[_i];
    struct dm_interval iv;
    char err[256] = "";

    bool ok = dm_interval_parse(c->text, &iv, err, sizeof err);
    ck_assert_msg(ok == c->ok, "\"%s\": expected %s, got %s (%s)", c->text, c->ok ? "ok" : "error",
                  ok ? "ok" : "error", err);
    if (!ok) {
        ck_assert_msg(strstr(err, "duration") != NULL, "error names the cause: %s", err);
        return;
    }
    ck_assert_int_eq(iv.set, c->set);
    ck_assert_int_eq(iv.months, c->months);
    ck_assert_int_eq(iv.days, c->days);
    ck_assert_int_eq(iv.usec, c->usec);
}
END_TEST

START_TEST(test_sql_literal_round_trip)
{
    struct dm_interval iv;
    char err[128], buf[128];

    ck_assert(dm_interval_parse("1 year 6 months 2 days 3 seconds", &iv, err, sizeof err));
    dm_interval_sql(&iv, buf, sizeof buf);
    ck_assert_str_eq(buf, "18 months 2 days 3000000 microseconds");
}
END_TEST

/* What a person reads: "5 minutes", not "0 months 0 days 300000000 microseconds". */
START_TEST(test_human)
{
    static const struct {
        const char *in, *out;
    } human[] = {
        {"300 seconds", "5 minutes"},
        {"1 year 6 months 2 days 3 seconds", "1 year 6 months 2 days 3 seconds"},
        {"1 second", "1 second"},
        {"36 hours", "36 hours"},
        {"90 minutes", "1 hour 30 minutes"},
        {"250 milliseconds", "250 milliseconds"},
        {"0 seconds", "0 seconds"},
        {"", "off"},
    };
    for (size_t i = 0; i < sizeof human / sizeof human[0]; i++) {
        struct dm_interval iv;
        char err[128], buf[128];
        ck_assert(dm_interval_parse(human[i].in, &iv, err, sizeof err));
        dm_interval_human(&iv, buf, sizeof buf);
        ck_assert_str_eq(buf, human[i].out);
    }
}
END_TEST

START_TEST(test_approximate_length)
{
    struct dm_interval iv;
    char err[128];

    ck_assert(dm_interval_parse("1 month 1 day 1 second", &iv, err, sizeof err));
    ck_assert_int_eq(dm_interval_usec(&iv), (31 * 86400 + 1) * SEC);
    ck_assert_int_eq(dm_interval_ms(&iv), (int64_t)(31 * 86400 + 1) * 1000);
    ck_assert(dm_interval_positive(&iv));
    ck_assert(dm_interval_parse("0 seconds", &iv, err, sizeof err));
    ck_assert(!dm_interval_positive(&iv));
    ck_assert(dm_interval_parse("", &iv, err, sizeof err));
    ck_assert_int_eq(dm_interval_usec(&iv), 0);
}
END_TEST

static Suite *interval_suite(void)
{
    Suite *s = suite_create("interval");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_sql_literal_round_trip);
    tcase_add_test(tc, test_approximate_length);
    tcase_add_test(tc, test_human);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(interval_suite());
}
