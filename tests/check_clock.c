/* One clock: how the source's time column types decide the reading, and the SQL around them. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"

/* One decision: the column types, source.timezone, whether the server
 * knows the zone, and the outcome (an error naming what it must). */
struct clock_case {
    const char *activity;
    const char *created;
    const char *zone;
    bool known;
    bool ok;
    enum dm_time_kind want_activity;
    enum dm_time_kind want_created;
    const char *error_has; /* substrings of the error, '|'-separated */
};

static const struct clock_case cases[] = {
    {"timestamp with time zone", "timestamp with time zone", "", true, true, DM_TIME_INSTANT,
     DM_TIME_INSTANT, NULL},
    {"timestamp without time zone", "timestamp without time zone", "UTC", true, true, DM_TIME_LOCAL,
     DM_TIME_LOCAL, NULL},
    {"date", "timestamp with time zone", "Europe/Paris", true, true, DM_TIME_DATE, DM_TIME_INSTANT,
     NULL},
    /* No silent default: the error names the column and the server's zone. */
    {"timestamp without time zone", "timestamp with time zone", "", true, false, 0, 0,
     "source.last_activity_at|last_activity_at|Asia/Tokyo|source.timezone"},
    {"timestamp with time zone", "date", "", true, false, 0, 0,
     "source.created_at|created_at|Asia/Tokyo"},
    {"timestamp with time zone", "timestamp with time zone", "Mars/Olympus", false, false, 0, 0,
     "Mars/Olympus"},
    {"text", "timestamp with time zone", "", true, false, 0, 0, "expected a timestamp"},
    {NULL, "timestamp with time zone", "", true, false, 0, 0, "does not exist"},
};

static const char base[] =
    "database = { conninfo = \"dbname=none\"; };\n"
    "source = { table = \"public.subscribers\"; timezone = \"%s\"; };\n"
    "http = { listen = \"127.0.0.1:1\"; public_url = \"https://a.example/d\"; };\n";

START_TEST(test_decide_table)
{
    const struct clock_case *c = &cases[_i];
    char *dir = dm_test_tmpdir(), text[512], err[512] = "";
    snprintf(text, sizeof text, base, c->zone);
    char *path = dm_test_write_file(dir, "dormant.conf", text);
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    struct dm_clock clock;
    bool ok = dm_clock_decide(cfg, c->activity, c->created, "Asia/Tokyo", c->known, &clock, err,
                              sizeof err);
    ck_assert_msg(ok == c->ok, "case %d: %s", _i, err);
    if (ok) {
        ck_assert_int_eq(clock.activity, c->want_activity);
        ck_assert_int_eq(clock.created, c->want_created);
    } else {
        char want[256];
        snprintf(want, sizeof want, "%s", c->error_has);
        for (char *w = strtok(want, "|"); w; w = strtok(NULL, "|"))
            ck_assert_msg(strstr(err, w) != NULL, "case %d: \"%s\" not in \"%s\"", _i, w, err);
    }
    dm_config_free(cfg);
    free(path);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The SQL around a column or a bound, by kind: a date means the start of
 * the next day in the zone, and its bound is the day before the bound's. */
static const struct {
    enum dm_clock_use use;
    enum dm_time_kind kind;
    const char *want; /* around "x" in zone 'Z' */
} wraps[] = {
    {DM_CLOCK_INSTANT, DM_TIME_INSTANT, "(x)"},
    {DM_CLOCK_INSTANT, DM_TIME_LOCAL, "((x) AT TIME ZONE 'Z')"},
    {DM_CLOCK_INSTANT, DM_TIME_DATE, "(((x) + 1)::timestamp AT TIME ZONE 'Z')"},
    {DM_CLOCK_BOUND, DM_TIME_INSTANT, "(x)"},
    {DM_CLOCK_BOUND, DM_TIME_LOCAL, "((x)::timestamptz AT TIME ZONE 'Z')"},
    {DM_CLOCK_BOUND, DM_TIME_DATE, "(((x)::timestamptz AT TIME ZONE 'Z')::date - 1)"},
};

START_TEST(test_wrap_table)
{
    char open[300], close[300], sql[700];
    dm_clock_wrap(wraps[_i].use, wraps[_i].kind, "'Z'", open, close, sizeof open);
    snprintf(sql, sizeof sql, "%sx%s", open, close);
    ck_assert_str_eq(sql, wraps[_i].want);
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("decide");
    tcase_add_loop_test(tc, test_decide_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_loop_test(tc, test_wrap_table, 0, (int)(sizeof wraps / sizeof wraps[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(clock_suite());
}
