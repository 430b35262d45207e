/* Unit tests of lib/guards.c: readings in, decisions and holds out, one table row a case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "guards.h"
#include "testlib.h"

/* One situation and what the guards must make of it. */
static const struct {
    const char *name;
    /* readings */
    bool paused, stale, dry_run;
    long long requested_24h, backlog, accepted, eligible;
    double fraction;
    int per_day;
    /* expected */
    bool need_eligible, backlog_tripped, rate_tripped;
    long long remaining;
    enum dm_hold request, suspend, remind, resume, reschedule;
} cases[] = {
    {"all clear", false, false, false, 10, 5, -1, 1000, 0.1, 100, false, false, false, 90,
     DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"nothing waits, nothing counted", false, false, false, -1, 0, -1, -1, 0.1, 100, false, false,
     false, 100, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"paused holds what is done to subscribers", true, false, false, 0, 5, -1, 1000, 0.1, 100,
     false, false, false, 100, DM_HOLD_PAUSED, DM_HOLD_PAUSED, DM_HOLD_PAUSED, DM_HOLD_NONE,
     DM_HOLD_NONE},
    {"stale feed holds requests and suspensions", false, true, false, 0, 5, -1, 1000, 0.1, 100,
     false, false, false, 100, DM_HOLD_STALE, DM_HOLD_STALE, DM_HOLD_NONE, DM_HOLD_NONE,
     DM_HOLD_NONE},
    {"pause comes before stale", true, true, false, 0, 5, -1, 1000, 0.1, 100, false, false, false,
     100, DM_HOLD_PAUSED, DM_HOLD_PAUSED, DM_HOLD_PAUSED, DM_HOLD_NONE, DM_HOLD_NONE},
    {"backlog over the fraction trips", false, false, false, 0, 200, -1, 1000, 0.1, 1000, true,
     true, false, 1000, DM_HOLD_BACKLOG, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"backlog at the fraction does not", false, false, false, 0, 100, -1, 1000, 0.1, 1000, false,
     false, false, 1000, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"an accepted backlog of that size lets it through", false, false, false, 0, 200, 200, 1000,
     0.1, 1000, true, false, false, 1000, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE,
     DM_HOLD_NONE},
    {"a larger backlog than accepted trips again", false, false, false, 0, 201, 200, 1000, 0.1,
     1000, true, true, false, 1000, DM_HOLD_BACKLOG, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE,
     DM_HOLD_NONE},
    {"unknown eligible count must be counted", false, false, false, 0, 5, -1, -1, 0.1, 100, true,
     false, false, 100, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"fraction 1 turns the backlog guard off", false, false, false, 0, 1, -1, -1, 1.0, 100, false,
     false, false, 100, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"rate: more waiting than the day allows", false, false, false, 90, 20, -1, 1000, 0.1, 100,
     false, false, true, 10, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"rate: the day's requests are spent", false, false, false, 100, 20, -1, 1000, 0.1, 100, false,
     false, true, 0, DM_HOLD_RATE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"rate: over the limit counts as spent", false, false, false, 150, 0, -1, 1000, 0.1, 100, false,
     false, false, 0, DM_HOLD_RATE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"backlog comes before rate", false, false, false, 100, 500, -1, 1000, 0.1, 100, true, true,
     true, 0, DM_HOLD_BACKLOG, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE},
    {"dry run skips the bookkeeping step only", false, false, true, 0, 5, -1, 1000, 0.1, 100, false,
     false, false, 100, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_NONE, DM_HOLD_DRY_RUN},
};

START_TEST(decides_and_holds)
{
    struct dm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_backlog_fraction = cases[_i].fraction;
    cfg.limits.max_requests_per_day = cases[_i].per_day;
    struct dm_guards g;
    memset(&g, 0, sizeof g);
    g.paused = cases[_i].paused;
    g.stale = cases[_i].stale;
    g.dry_run = cases[_i].dry_run;
    g.requested_24h = cases[_i].requested_24h;
    g.backlog = cases[_i].backlog;
    g.accepted = cases[_i].accepted;
    g.eligible = cases[_i].eligible;

    const char *name = cases[_i].name;
    ck_assert_msg(dm_guards_need_eligible(&g, &cfg) == cases[_i].need_eligible, "%s: need_eligible",
                  name);
    dm_guards_decide(&g, &cfg);
    ck_assert_msg(g.backlog_tripped == cases[_i].backlog_tripped, "%s: backlog", name);
    ck_assert_msg(g.rate_tripped == cases[_i].rate_tripped, "%s: rate", name);
    ck_assert_msg(g.remaining == cases[_i].remaining, "%s: remaining %lld", name, g.remaining);
    const struct {
        enum dm_step step;
        enum dm_hold want;
    } holds[] = {
        {DM_STEP_REQUEST_RECHECK, cases[_i].request}, {DM_STEP_REQUEST_INACTIVE, cases[_i].request},
        {DM_STEP_REQUEST_NEVER, cases[_i].request},   {DM_STEP_SUSPEND, cases[_i].suspend},
        {DM_STEP_REMIND, cases[_i].remind},           {DM_STEP_ERASE, cases[_i].remind},
        {DM_STEP_RESUME, cases[_i].resume},           {DM_STEP_REACTIVATE, cases[_i].resume},
        {DM_STEP_RESCHEDULE, cases[_i].reschedule},
    };
    for (size_t i = 0; i < sizeof holds / sizeof holds[0]; i++) {
        enum dm_hold h = dm_guards_hold(&g, holds[i].step);
        ck_assert_msg(h == holds[i].want, "%s: step %s held by %d, want %d", name,
                      dm_step_names[holds[i].step], h, holds[i].want);
        ck_assert_msg((dm_hold_reason(h) == NULL) == (h == DM_HOLD_NONE), "%s: reason", name);
    }
}
END_TEST

/* A fresh count replaces a cached one, and a cached one that no longer
 * trips the guard needs no count. */
START_TEST(eligible_count)
{
    struct dm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_backlog_fraction = 0.1;
    cfg.limits.max_requests_per_day = 1000;
    struct dm_guards g = {.backlog = 50, .accepted = -1, .eligible = 100};
    ck_assert(dm_guards_need_eligible(&g, &cfg)); /* cached: would trip */
    dm_guards_set_eligible(&g, 10000);
    ck_assert(g.eligible_fresh);
    ck_assert(!dm_guards_need_eligible(&g, &cfg));
    dm_guards_decide(&g, &cfg);
    ck_assert(!g.backlog_tripped);
    char json[1024];
    dm_guards_json(&g, &cfg, json, sizeof json);
    ck_assert_ptr_nonnull(strstr(json, "\"eligible\": 10000, \"eligible_at\": \"now\""));
    ck_assert_ptr_nonnull(strstr(json, "\"backlog\": {\"tripped\": false, \"count\": 50"));
    /* With the guard off the count means only "someone waits". */
    cfg.limits.max_backlog_fraction = 1.0;
    dm_guards_json(&g, &cfg, json, sizeof json);
    ck_assert_ptr_nonnull(strstr(json, "\"count\": null"));
}
END_TEST

/* The guard row as PostgreSQL returns it. */
START_TEST(reads_the_guard_row)
{
    DM_TEST_REQUIRE_PG();
    char *conninfo = dm_test_db_create("guards");
    PGresult *r =
        dm_test_exec(conninfo, "SELECT true, false, '2026-01-02 03:04:05+00', NULL::bigint,"
                               " 7::bigint, NULL::integer, 700::bigint, 1::bigint");
    struct dm_guards g;
    dm_guards_read(&g, r);
    ck_assert(g.paused_db && !g.stale && !g.paused);
    ck_assert_str_eq(g.newest, "2026-01-02 03:04:05+00");
    ck_assert_int_eq(g.requested_24h, -1);
    ck_assert_int_eq(g.backlog, 7);
    ck_assert_int_eq(g.accepted, -1);
    ck_assert_int_eq(g.eligible, 700);
    ck_assert(g.rescanned && !g.eligible_fresh);
    PQclear(r);
    r = dm_test_exec(conninfo,
                     "SELECT false, true, NULL, 3::bigint, 0::bigint, 5, NULL::bigint, 0");
    dm_guards_read(&g, r);
    ck_assert(!g.paused_db && g.stale && !g.rescanned);
    ck_assert_str_eq(g.newest, "");
    ck_assert_int_eq(g.requested_24h, 3);
    ck_assert_int_eq(g.accepted, 5);
    ck_assert_int_eq(g.eligible, -1);
    PQclear(r);
    dm_test_db_drop(conninfo);
    free(conninfo);
}
END_TEST

static Suite *guards_suite(void)
{
    Suite *s = suite_create("guards");
    TCase *tc = tcase_create("guards");
    tcase_add_loop_test(tc, decides_and_holds, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, eligible_count);
    tcase_add_test(tc, reads_the_guard_row);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(guards_suite());
}
