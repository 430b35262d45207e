/*
 * The HTTP server built alone, against fake hooks (no daemon) and a real
 * PostgreSQL, asked by an in-process client: /healthz says what the hooks
 * say, an answer waits in a dry run and is recorded otherwise, /metrics
 * shows the counters it was given.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "http.h"
#include "metrics.h"
#include "schema.h"
#include "sql.h"
#include "testlib.h"
#include "token.h"

struct world {
    struct dm_test_module m;
    int port;
    struct dm_http *http;
    char token[DM_TOKEN_SIZE];
    /* The last response. */
    int status;
    char body[8192];
};

/* A port nothing listens on now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static bool db_up(void *arg)
{
    return dm_db_up(((struct world *)arg)->m.env.db);
}

/* A migrated schema with subscriber 5 pending on a delivered request, w->token its link. */
static void start(struct world *w)
{
    char err[512], text[2048], sql[1024], hash[DM_TOKEN_HASH_HEX_SIZE];
    memset(w, 0, sizeof *w);
    dm_test_module_init(&w->m, "check_http");
    w->port = free_port();
    PQclear(dm_test_exec(w->m.conninfo,
                         "CREATE TABLE subs (id bigint PRIMARY KEY, email text,"
                         " created_at timestamptz NOT NULL DEFAULT now(),"
                         " last_activity_at timestamptz,"
                         " billing text NOT NULL DEFAULT 'active');"
                         "INSERT INTO subs (id, email) VALUES (5, 'e@example.com')"));
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"dm\"; };\n"
             "source = { table = \"subs\"; id = \"id\"; email = \"email\";"
             " billing = { column = \"billing\"; active = \"active\"; suspended = \"off\"; }; };\n"
             "http = { listen = \"127.0.0.1:%d\"; public_url = \"http://127.0.0.1:%d\"; };\n"
             "email = { templates = \"%s/etc/templates\"; };\n",
             w->m.conninfo, w->port, w->port, DM_SOURCE_DIR);
    dm_test_module_config(&w->m, "http", text);
    ck_assert(dm_token_new(w->token));
    dm_token_hash_hex(w->token, hash);
    snprintf(sql, sizeof sql,
             "INSERT INTO dm.account (subscriber_id, state, cycle, requested_at, delivered_at,"
             " deadline) VALUES (5, 'pending', 1, now(), now(), now() + interval '9 days');"
             "INSERT INTO dm.token (hash, subscriber_id, cycle) VALUES (decode('%s', 'hex'), 5, 1)",
             hash);
    PQclear(dm_test_exec(w->m.conninfo, sql));
    w->http = dm_http_new(&w->m.env, err, sizeof err);
    ck_assert_msg(w->http != NULL, "%s", err);
    dm_db_start(w->m.env.db);
    ck_assert(dm_test_loop_until(w->m.base, db_up, w, 10000));
}

static void stop(struct world *w)
{
    dm_http_stop(w->http);
    dm_test_module_close(&w->m);
    dm_http_free(w->http);
    dm_test_module_free(&w->m);
}

static void response_cb(struct evhttp_request *req, void *arg)
{
    struct world *w = arg;
    if (req == NULL) {
        w->status = -1;
        return;
    }
    w->status = evhttp_request_get_response_code(req);
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(b);
    if (n >= sizeof w->body)
        n = sizeof w->body - 1;
    evbuffer_remove(b, w->body, n);
    w->body[n] = '\0';
}

static bool answered(void *arg)
{
    return ((struct world *)arg)->status != 0;
}

/* One request to the server, in the same loop; the answer in w. */
static void request(struct world *w, enum evhttp_cmd_type method, const char *path,
                    const char *body)
{
    w->status = 0;
    w->body[0] = '\0';
    struct evhttp_connection *c =
        evhttp_connection_base_new(w->m.base, NULL, "127.0.0.1", (ev_uint16_t)w->port);
    struct evhttp_request *req = evhttp_request_new(response_cb, w);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "127.0.0.1");
    if (body != NULL) {
        evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    }
    ck_assert_int_eq(evhttp_make_request(c, req, method, path), 0);
    ck_assert_msg(dm_test_loop_until(w->m.base, answered, w, 15000), "no answer to %s", path);
    evhttp_connection_free(c);
}

static char *state(struct world *w)
{
    return dm_test_scalar(w->m.conninfo, "SELECT state FROM dm.account WHERE subscriber_id = 5");
}

START_TEST(health_says_what_the_hooks_say)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w);
    request(&w, EVHTTP_REQ_GET, "/healthz", NULL);
    ck_assert_int_eq(w.status, 200);
    ck_assert_msg(strstr(w.body, "\"paused\" : false") != NULL, "%s", w.body);
    w.m.fake.paused = true; /* SIGUSR1, as the owner sees it */
    request(&w, EVHTTP_REQ_GET, "/healthz", NULL);
    ck_assert_int_eq(w.status, 200);
    ck_assert_msg(strstr(w.body, "\"paused\" : true") != NULL, "%s", w.body);
    stop(&w);
}
END_TEST

START_TEST(answer_waits_in_a_dry_run_then_is_recorded)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w);
    char path[128];
    snprintf(path, sizeof path, "/c/%s", w.token);
    w.m.fake.dry_run = true;
    request(&w, EVHTTP_REQ_POST, path, "action=keep");
    ck_assert_int_eq(w.status, 503);
    char *s = state(&w);
    ck_assert_str_eq(s, "pending");
    free(s);
    ck_assert_int_eq(w.m.metrics.transitions[DM_T_CONFIRMED], 0);

    w.m.fake.dry_run = false;
    request(&w, EVHTTP_REQ_POST, path, "action=keep");
    ck_assert_int_eq(w.status, 200);
    s = state(&w);
    ck_assert_str_eq(s, "active");
    free(s);
    ck_assert_int_eq(w.m.metrics.transitions[DM_T_CONFIRMED], 1);
    stop(&w);
}
END_TEST

START_TEST(metrics_show_the_given_counters)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    start(&w);
    w.m.metrics.transitions[DM_T_SUSPENDED] = 42;
    request(&w, EVHTTP_REQ_GET, "/metrics", NULL);
    ck_assert_int_eq(w.status, 200);
    ck_assert_msg(strstr(w.body, "dormant_transitions_total{kind=\"suspended\"} 42") != NULL, "%s",
                  w.body);
    ck_assert_msg(strstr(w.body, "dormant_accounts{state=\"pending\"} 1") != NULL, "%s", w.body);
    stop(&w);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, health_says_what_the_hooks_say);
    tcase_add_test(tc, answer_waits_in_a_dry_run_then_is_recorded);
    tcase_add_test(tc, metrics_show_the_given_counters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(http_suite());
}
