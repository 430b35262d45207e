/*
 * The outbox dispatcher built alone, against fake hooks (no daemon), a real
 * PostgreSQL and an in-process webhook endpoint that answers as each test
 * says: the retry schedule, Retry-After, dead on exhaustion, 410 not counted.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "metrics.h"
#include "outbox.h"
#include "schema.h"
#include "sql.h"
#include "testlib.h"

/* The endpoint: answers every POST with status (and Retry-After when set). */
struct sink {
    struct evhttp *http;
    int port;
    int status;
    const char *retry_after;
    int hits;
};

static void sink_cb(struct evhttp_request *req, void *arg)
{
    struct sink *s = arg;
    s->hits++;
    if (s->retry_after)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", s->retry_after);
    evhttp_send_reply(req, s->status, "scripted", NULL);
}

/* Everything one test runs: loop, endpoint, database, the outbox itself. */
struct world {
    struct dm_test_module m;
    struct sink sink;
    struct dm_outbox *outbox;
};

static void start(struct world *w, const char *retry)
{
    char text[4096];
    memset(w, 0, sizeof *w);
    dm_test_module_init(&w->m, "check_outbox");
    w->sink.http = evhttp_new(w->m.base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(w->sink.http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&a, &alen);
    w->sink.port = ntohs(a.sin_port);
    evhttp_set_gencb(w->sink.http, sink_cb, &w->sink);

    PQclear(dm_test_exec(w->m.conninfo, "CREATE TABLE subs (id bigint PRIMARY KEY, email text,"
                                        " created_at timestamptz NOT NULL DEFAULT now(),"
                                        " last_activity_at timestamptz,"
                                        " billing text NOT NULL DEFAULT 'active')"));
    free(dm_test_write_file(w->m.dir, "webhook.secret",
                            "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"));
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"dm\"; };\n"
             "source = { table = \"subs\"; id = \"id\"; email = \"email\";"
             " billing = { column = \"billing\"; active = \"active\"; suspended = \"off\"; }; };\n"
             "webhook = { url = \"http://127.0.0.1:%d/hook\"; secret_file = \"webhook.secret\";"
             " timeout = \"5 seconds\"; retry = [ %s ]; };\n",
             w->m.conninfo, w->sink.port, retry);
    dm_test_module_config(&w->m, "outbox", text);
    /* One message to deliver. */
    PQclear(dm_test_exec(w->m.conninfo,
                         "INSERT INTO dm.outbox (type, subscriber_id, cycle, payload) VALUES"
                         " ('subscription.confirmed', 7, 1, '{\"type\": \"subscription.confirmed\","
                         " \"data\": {\"subscriber_id\": \"7\"}}')"));
    w->outbox = dm_outbox_new(&w->m.env);
    dm_db_start(w->m.env.db);
}

static void stop(struct world *w)
{
    dm_outbox_stop(w->outbox);
    dm_test_module_close(&w->m);
    dm_outbox_free(w->outbox);
    evhttp_free(w->sink.http);
    dm_test_module_free(&w->m);
}

static char *row(struct world *w, const char *expr)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT (%s)::text FROM dm.outbox", expr);
    return dm_test_scalar(w->m.conninfo, sql);
}

/* The endpoint was called and the outcome is written (the claim released). */
static bool outcome_written(void *arg)
{
    struct world *w = arg;
    if (w->sink.hits == 0)
        return false;
    char *v = row(w, "claimed_by IS NULL");
    bool done = v != NULL && strcmp(v, "true") == 0;
    free(v);
    return done;
}

static bool failure_counted(void *arg)
{
    struct world *w = arg;
    return w->m.metrics.transitions[DM_T_DELIVERY_FAILED] == 1;
}

static void expect(struct world *w, const char *expr, const char *want)
{
    char *v = row(w, expr);
    ck_assert_msg(v != NULL && strcmp(v, want) == 0, "%s: %s, want %s", expr, v ? v : "NULL", want);
    free(v);
}

START_TEST(delivered_on_2xx)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w, "\"1 minute\"");
    w.sink.status = 204;
    ck_assert(dm_test_loop_until(w.m.base, outcome_written, &w, 20000));
    expect(&w, "delivered_at IS NOT NULL AND dead_at IS NULL", "true");
    expect(&w, "attempts", "0");
    expect(&w, "channels_done", "{webhook}");
    ck_assert_int_eq(w.m.metrics.deliveries[DM_CH_WEBHOOK][DM_DLV_DELIVERED], 1);
    ck_assert_int_eq(w.m.fake.fatal, -1);
    stop(&w);
}
END_TEST

START_TEST(retry_follows_the_schedule)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w, "\"10 minutes\", \"1 hour\"");
    w.sink.status = 500;
    ck_assert(dm_test_loop_until(w.m.base, outcome_written, &w, 20000));
    expect(&w, "attempts", "1");
    expect(&w, "delivered_at IS NULL AND dead_at IS NULL", "true");
    /* The first delay of webhook.retry. */
    expect(&w,
           "next_attempt_at BETWEEN now() + interval '9 minutes'"
           " AND now() + interval '11 minutes'",
           "true");
    expect(&w, "last_error", "webhook: HTTP 500");
    ck_assert_int_eq(w.m.metrics.deliveries[DM_CH_WEBHOOK][DM_DLV_RETRY], 1);
    stop(&w);
}
END_TEST

START_TEST(retry_after_overrides_the_schedule)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w, "\"10 minutes\", \"1 hour\"");
    w.sink.status = 503;
    w.sink.retry_after = "120";
    ck_assert(dm_test_loop_until(w.m.base, outcome_written, &w, 20000));
    expect(&w, "attempts", "1");
    expect(&w,
           "next_attempt_at BETWEEN now() + interval '100 seconds'"
           " AND now() + interval '140 seconds'",
           "true");
    stop(&w);
}
END_TEST

START_TEST(dead_when_the_retries_are_spent)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w, "\"1 second\", \"2 seconds\"");
    /* Two failed attempts already: this one is the last. */
    PQclear(dm_test_exec(w.m.conninfo, "UPDATE dm.outbox SET attempts = 2"));
    w.sink.status = 500;
    ck_assert(dm_test_loop_until(w.m.base, outcome_written, &w, 20000));
    expect(&w, "dead_at IS NOT NULL AND delivered_at IS NULL", "true");
    expect(&w, "attempts", "3");
    char *ev = dm_test_scalar(w.m.conninfo, "SELECT kind || ' ' || (detail->>'channel') || ' ' ||"
                                            " (detail->>'attempts') FROM dm.event");
    ck_assert_str_eq(ev, "delivery_failed webhook 3");
    free(ev);
    ck_assert_int_eq(w.m.metrics.deliveries[DM_CH_WEBHOOK][DM_DLV_DEAD], 1);
    /* The dead message counts as a transition once its outcome is recorded. */
    ck_assert(dm_test_loop_until(w.m.base, failure_counted, &w, 5000));
    stop(&w);
}
END_TEST

START_TEST(gone_is_not_counted)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w, "\"1 second\"");
    w.sink.status = 410;
    ck_assert(dm_test_loop_until(w.m.base, outcome_written, &w, 20000));
    expect(&w, "attempts", "0");
    expect(&w, "delivered_at IS NULL AND dead_at IS NULL", "true");
    expect(&w, "last_error", "webhook: HTTP 410");
    /* The endpoint is off until a reload: the message waits, unclaimed. */
    int hits = w.sink.hits;
    struct timeval tv = {1, 500000};
    event_base_loopexit(w.m.base, &tv);
    event_base_dispatch(w.m.base);
    ck_assert_int_eq(w.sink.hits, hits);
    expect(&w, "claimed_by IS NULL", "true");
    stop(&w);
}
END_TEST

static Suite *outbox_suite(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("webhook");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, delivered_on_2xx);
    tcase_add_test(tc, retry_follows_the_schedule);
    tcase_add_test(tc, retry_after_overrides_the_schedule);
    tcase_add_test(tc, dead_when_the_retries_are_spent);
    tcase_add_test(tc, gone_is_not_counted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(outbox_suite());
}
