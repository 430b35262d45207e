/*
 * The pass built alone, against fake hooks (no daemon) and a real
 * PostgreSQL: one pass requests whom the rules say, tells how it went, holds
 * back under a pause, writes nothing in a dry run, and reports the
 * database's pause flag.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "metrics.h"
#include "pass.h"
#include "schema.h"
#include "sql.h"
#include "testlib.h"

struct world {
    struct dm_test_module m;
    struct dm_pass *pass;
};

/* A source table with one subscriber inactive for three years, one active
 * yesterday; migrated. */
static void prepare(struct world *w)
{
    char text[2048];
    memset(w, 0, sizeof *w);
    dm_test_module_init(&w->m, "check_pass");
    PQclear(dm_test_exec(w->m.conninfo,
                         "CREATE TABLE subs (id bigint PRIMARY KEY, email text,"
                         " created_at timestamptz NOT NULL DEFAULT now() - interval '5 years',"
                         " last_activity_at timestamptz, billing text NOT NULL DEFAULT 'active');"
                         "INSERT INTO subs (id, email, last_activity_at) VALUES"
                         " (1, 'a@example.com', now() - interval '3 years'),"
                         " (2, 'b@example.com', now() - interval '1 day')"));
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"dm\"; };\n"
             "source = { table = \"subs\"; id = \"id\"; email = \"email\";"
             " billing = { column = \"billing\"; active = \"active\"; suspended = \"off\"; }; };\n"
             "limits = { max_activity_lag = \"100 years\"; max_backlog_fraction = 1.0; };\n",
             w->m.conninfo);
    dm_test_module_config(&w->m, "pass", text);
}

static bool finished(void *arg)
{
    return ((struct world *)arg)->m.fake.finished > 0;
}

/* Runs one pass (--once) with the fake as it stands. */
static void run_once(struct world *w)
{
    w->m.env.once = true;
    w->pass = dm_pass_new(&w->m.env);
    dm_db_start(w->m.env.db);
    ck_assert_msg(dm_test_loop_until(w->m.base, finished, w, 30000), "the pass did not finish");
    ck_assert_int_eq(w->m.fake.finished, 1);
    ck_assert_int_eq(w->m.fake.fatal, -1);
}

static void finish(struct world *w)
{
    dm_pass_stop(w->pass);
    dm_test_module_close(&w->m);
    dm_pass_free(w->pass);
    dm_test_module_free(&w->m);
}

static void expect(struct world *w, const char *sql, const char *want)
{
    char *v = dm_test_scalar(w->m.conninfo, sql);
    ck_assert_msg(v != NULL && strcmp(v, want) == 0, "%s: %s, want %s", sql, v ? v : "NULL", want);
    free(v);
}

START_TEST(requests_the_inactive_and_tells)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    prepare(&w);
    run_once(&w);
    ck_assert(w.m.fake.finished_ok);
    ck_assert_msg(strncmp(w.m.fake.summary, "requested=1 ", 12) == 0, "%s", w.m.fake.summary);
    expect(&w, "SELECT string_agg(subscriber_id || ' ' || state, ',') FROM dm.account",
           "1 pending");
    expect(&w, "SELECT type FROM dm.outbox", "confirmation.requested");
    expect(&w, "SELECT last_pass_outcome FROM dm.control", "ok");
    ck_assert_int_eq(w.m.metrics.transitions[DM_T_REQUESTED], 1);
    ck_assert_int_eq(w.m.metrics.passes, 1);
    ck_assert(w.m.metrics.leader);
    ck_assert(w.m.fake.db_paused_calls > 0 && !w.m.fake.db_paused);
    finish(&w);
}
END_TEST

START_TEST(paused_holds_the_requests_back)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    prepare(&w);
    w.m.fake.paused = true;
    run_once(&w);
    ck_assert(w.m.fake.finished_ok);
    ck_assert_msg(strncmp(w.m.fake.summary, "requested=0 ", 12) == 0, "%s", w.m.fake.summary);
    expect(&w, "SELECT count(*) FROM dm.account", "0");
    expect(&w, "SELECT guards->>'paused' FROM dm.control", "true");
    finish(&w);
}
END_TEST

START_TEST(dry_run_counts_and_writes_nothing)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    prepare(&w);
    w.m.fake.dry_run = true;
    run_once(&w);
    ck_assert(w.m.fake.finished_ok);
    ck_assert_msg(strncmp(w.m.fake.summary, "dry_run requested=1 ", 20) == 0, "%s",
                  w.m.fake.summary);
    expect(&w, "SELECT count(*) FROM dm.account", "0");
    expect(&w, "SELECT count(*) FROM dm.outbox", "0");
    expect(&w, "SELECT last_pass_at IS NULL FROM dm.control", "t");
    finish(&w);
}
END_TEST

START_TEST(reports_the_database_pause)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    prepare(&w);
    PQclear(dm_test_exec(w.m.conninfo, "UPDATE dm.control SET paused = true"));
    /* The owner decides what a pause means: here it keeps the pass paused. */
    w.m.fake.paused = true;
    run_once(&w);
    ck_assert(w.m.fake.db_paused);
    expect(&w, "SELECT count(*) FROM dm.account", "0");
    finish(&w);
}
END_TEST

static Suite *pass_suite(void)
{
    Suite *s = suite_create("pass");
    TCase *tc = tcase_create("pass");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, requests_the_inactive_and_tells);
    tcase_add_test(tc, paused_holds_the_requests_back);
    tcase_add_test(tc, dry_run_counts_and_writes_nothing);
    tcase_add_test(tc, reports_the_database_pause);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(pass_suite());
}
