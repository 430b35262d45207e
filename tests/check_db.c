/* The event-loop PostgreSQL connection: order, errors, outages, notifications. */
#include "testlib.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

static char *conninfo;
static struct event_base *base;

static void setup(void)
{
    if (!dm_test_have_pg())
        return;
    conninfo = dm_test_db_create("check_db");
    base = event_base_new();
}

static void teardown(void)
{
    if (!dm_test_have_pg())
        return;
    event_base_free(base);
    dm_test_db_drop(conninfo);
    free(conninfo);
}

/* What the callbacks saw. */
struct seen {
    int calls;
    char values[8][64];
    bool ok[8];
    int ups, downs;
    char notify_payload[64];
};

static void result_cb(void *arg, PGresult *res)
{
    struct seen *s = arg;
    int i = s->calls++;
    if (i >= 8)
        return;
    s->ok[i] = dm_db_ok(res);
    if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        snprintf(s->values[i], sizeof s->values[i], "%s", PQgetvalue(res, 0, 0));
    else
        snprintf(s->values[i], sizeof s->values[i], "%s", dm_db_error(res));
}

static void state_cb(void *arg, bool up)
{
    struct seen *s = arg;
    if (up)
        s->ups++;
    else
        s->downs++;
}

static void notify_cb(void *arg, const char *channel, const char *payload)
{
    struct seen *s = arg;
    snprintf(s->notify_payload, sizeof s->notify_payload, "%s:%s", channel, payload);
}

/* Runs the loop for n slices of 10 ms. */
static void spin(int n)
{
    for (int i = 0; i < n; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

/* Runs the loop until cond holds or about 20 s pass. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        for (int spin_ = 0; spin_ < 2000 && !(cond); spin_++)                                      \
            spin(1);                                                                               \
        ck_assert_msg((cond), "timed out waiting for " #cond);                                     \
    } while (0)

START_TEST(test_queries_run_in_order)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "test", conninfo);
    dm_db_on_state(db, state_cb, &s);
    ck_assert(!dm_db_send(db, "SELECT 1", 0, NULL, result_cb, &s)); /* not up yet */
    dm_db_start(db);
    RUN_UNTIL(s.ups == 1);
    ck_assert(dm_db_up(db));

    const char *params[] = {"21"};
    ck_assert(dm_db_send(db, "SELECT $1::int * 2", 1, params, result_cb, &s));
    ck_assert(dm_db_send(db, "SELECT 'second'", 0, NULL, result_cb, &s));
    ck_assert(dm_db_send(db, "SELECT 1; SELECT 'last of two'", 0, NULL, result_cb, &s));
    ck_assert(dm_db_send(db, "SELECT 1/0; SELECT 'never'", 0, NULL, result_cb, &s));
    const char *nulls[] = {NULL};
    ck_assert(dm_db_send(db, "SELECT coalesce($1::text, 'was null')", 1, nulls, result_cb, &s));
    ck_assert(!dm_db_idle(db));
    RUN_UNTIL(s.calls == 5);
    ck_assert(dm_db_idle(db));
    ck_assert_str_eq(s.values[0], "42");
    ck_assert_str_eq(s.values[1], "second");
    ck_assert_str_eq(s.values[2], "last of two");
    ck_assert(!s.ok[3]);
    ck_assert_str_eq(s.values[3], "division by zero");
    ck_assert_str_eq(s.values[4], "was null");
    dm_db_free(db);
}
END_TEST

START_TEST(test_unreachable_then_fixed)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "test", "host=127.0.0.1 port=1 dbname=none");
    dm_db_on_state(db, state_cb, &s);
    dm_db_start(db);
    spin(30);
    ck_assert(!dm_db_up(db));
    ck_assert_int_eq(s.ups, 0);
    dm_db_set_conninfo(db, conninfo);
    RUN_UNTIL(s.ups == 1); /* the next backoff attempt uses the new string */
    ck_assert(dm_db_send(db, "SELECT 'back'", 0, NULL, result_cb, &s));
    RUN_UNTIL(s.calls == 1);
    ck_assert_str_eq(s.values[0], "back");
    dm_db_free(db);
}
END_TEST

START_TEST(test_lost_connection_fails_queries_and_reconnects)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "victim", conninfo);
    dm_db_on_state(db, state_cb, &s);
    dm_db_start(db);
    RUN_UNTIL(s.ups == 1);
    ck_assert(dm_db_send(db, "SELECT pg_sleep(30)", 0, NULL, result_cb, &s));
    ck_assert(dm_db_send(db, "SELECT 'queued behind'", 0, NULL, result_cb, &s));
    /* Let the sleep start, then kill its backend from outside. */
    spin(20);
    PQclear(dm_test_exec(conninfo, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                   " WHERE application_name = 'dormantd/victim'"));
    RUN_UNTIL(s.calls == 2);
    ck_assert(!s.ok[0]);
    ck_assert(!s.ok[1]);
    ck_assert_int_eq(s.downs, 1);
    RUN_UNTIL(s.ups == 2); /* back by itself */
    ck_assert(dm_db_send(db, "SELECT 'again'", 0, NULL, result_cb, &s));
    RUN_UNTIL(s.calls == 3);
    ck_assert_str_eq(s.values[2], "again");
    dm_db_free(db);
}
END_TEST

START_TEST(test_notifications_arrive)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "listener", conninfo);
    dm_db_on_state(db, state_cb, &s);
    dm_db_on_notify(db, notify_cb, &s);
    dm_db_start(db);
    RUN_UNTIL(s.ups == 1);
    ck_assert(dm_db_send(db, "LISTEN dormant_test", 0, NULL, result_cb, &s));
    RUN_UNTIL(s.calls == 1);
    PQclear(dm_test_exec(conninfo, "NOTIFY dormant_test, 'hello'"));
    RUN_UNTIL(s.notify_payload[0] != '\0');
    ck_assert_str_eq(s.notify_payload, "dormant_test:hello");
    dm_db_free(db);
}
END_TEST

START_TEST(test_free_fails_pending)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "test", conninfo);
    dm_db_on_state(db, state_cb, &s);
    dm_db_start(db);
    RUN_UNTIL(s.ups == 1);
    ck_assert(dm_db_send(db, "SELECT pg_sleep(10)", 0, NULL, result_cb, &s));
    dm_db_free(db);
    ck_assert_int_eq(s.calls, 1);
    ck_assert(!s.ok[0]);
    ck_assert_str_eq(s.values[0], "connection lost");
}
END_TEST

/* A callback that tries to use the connection it was failed on. */
static struct dm_db *closing_db;

static void resend_cb(void *arg, PGresult *res)
{
    struct seen *s = arg;
    result_cb(arg, res);
    s->ok[7] = dm_db_send(closing_db, "SELECT 1", 0, NULL, result_cb, s);
}

START_TEST(test_close_fails_pending_and_stays_closed)
{
    DM_TEST_REQUIRE_PG();
    struct seen s = {0};
    struct dm_db *db = dm_db_new(base, "closing", conninfo);
    closing_db = db;
    dm_db_on_state(db, state_cb, &s);
    dm_db_start(db);
    RUN_UNTIL(s.ups == 1);
    ck_assert(dm_db_send(db, "SELECT pg_sleep(10)", 0, NULL, resend_cb, &s));
    dm_db_close(db);
    ck_assert_int_eq(s.calls, 1);
    ck_assert(!s.ok[0]);
    ck_assert(!s.ok[7]); /* the callback's send on the closed db was refused */
    dm_db_start(db);
    spin(50);
    ck_assert(!dm_db_up(db));
    ck_assert_int_eq(s.ups, 1);
    dm_db_free(db);
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("db");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_queries_run_in_order);
    tcase_add_test(tc, test_unreachable_then_fixed);
    tcase_add_test(tc, test_lost_connection_fails_queries_and_reconnects);
    tcase_add_test(tc, test_notifications_arrive);
    tcase_add_test(tc, test_free_fails_pending);
    tcase_add_test(tc, test_close_fails_pending_and_stays_closed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct dm_log_settings ls = {.level = DM_LOG_WARNING, .destination = "stderr"};
    char err[128];
    if (!dm_log_configure(&ls, err, sizeof err))
        return 1;
    return dm_test_run(db_suite());
}
