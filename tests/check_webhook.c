/* Webhook signing, and real POSTs through the curl-on-libevent loop. */
#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "testlib.h"
#include "transfer.h"
#include "webhook.h"

/* The Standard Webhooks specification's own example. */
START_TEST(test_sign_matches_the_specification_vector)
{
    unsigned char key[64];
    const char *b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)strlen(b64));
    ck_assert_int_eq(n, 24);
    const char *body = "{\"test\": 2432232314}";
    char sig[DM_WEBHOOK_SIG_SIZE];
    ck_assert(dm_webhook_sign(key, 24, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
                              strlen(body), sig));
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Any change to id, timestamp, body or key changes the signature. */
    char other[DM_WEBHOOK_SIG_SIZE];
    ck_assert(dm_webhook_sign(key, 24, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", body,
                              strlen(body), other));
    ck_assert_str_ne(sig, other);
    key[0] ^= 1;
    ck_assert(dm_webhook_sign(key, 24, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
                              strlen(body), other));
    ck_assert_str_ne(sig, other);
}
END_TEST

/* A tiny receiver on the same event loop: answers by path. */
struct receiver {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int hits;
    char last_id[128];
    char last_sig[128];
    char last_ts[32];
    char last_body[512];
};

static void handle(struct evhttp_request *req, void *arg)
{
    struct receiver *rc = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(body);
    rc->hits++;
    snprintf(rc->last_id, sizeof rc->last_id, "%s", evhttp_find_header(in, "webhook-id"));
    snprintf(rc->last_sig, sizeof rc->last_sig, "%s", evhttp_find_header(in, "webhook-signature"));
    snprintf(rc->last_ts, sizeof rc->last_ts, "%s", evhttp_find_header(in, "webhook-timestamp"));
    if (len >= sizeof rc->last_body)
        len = sizeof rc->last_body - 1;
    evbuffer_copyout(body, rc->last_body, len);
    rc->last_body[len] = '\0';
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (strcmp(uri, "/ok") == 0) {
        evhttp_send_reply(req, 204, "No Content", NULL);
    } else if (strcmp(uri, "/busy") == 0) {
        evhttp_add_header(out, "Retry-After", "7");
        evhttp_send_reply(req, 503, "Busy", NULL);
    } else if (strcmp(uri, "/slow-down") == 0) {
        evhttp_add_header(out, "Retry-After", "11");
        evhttp_send_reply(req, 429, "Too Many", NULL);
    } else if (strcmp(uri, "/gone") == 0) {
        evhttp_send_reply(req, 410, "Gone", NULL);
    } else if (strcmp(uri, "/moved") == 0) {
        evhttp_add_header(out, "Location", "/ok");
        evhttp_send_reply(req, 302, "Found", NULL);
    } else {
        evhttp_add_header(out, "Retry-After", "5"); /* ignored on a 500 */
        evhttp_send_reply(req, 500, "Error", NULL);
    }
}

struct outcome {
    bool done;
    CURLcode rc;
};

static void done_cb(void *arg, CURL *easy, CURLcode rc)
{
    struct outcome *o = arg;
    o->done = true;
    o->rc = rc;
}

/* Posts body to path on the receiver through dm_transfers and returns the
 * classified outcome. */
static enum dm_webhook_outcome post(struct receiver *rc, const char *path, long *status,
                                    int64_t *retry_after, char *cause, size_t causelen)
{
    static unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char url[128];
    struct dm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", rc->port, path);
    cfg.webhook.url = url;
    cfg.webhook.secret = key;
    cfg.webhook.secret_len = sizeof key;
    char err[128];
    ck_assert(dm_interval_parse("5 seconds", &cfg.webhook.timeout, err, sizeof err));

    struct dm_transfers *t = dm_transfers_new(rc->base, 4);
    struct dm_webhook_request *r =
        dm_webhook_request_new(&cfg, "msg_42", 1700000000, "{\"type\":\"x\"}");
    ck_assert_ptr_nonnull(r);
    struct outcome o = {0};
    ck_assert(dm_transfers_add(t, dm_webhook_easy(r), done_cb, &o));
    ck_assert_int_eq(dm_transfers_running(t), 1);
    while (!o.done)
        event_base_loop(rc->base, EVLOOP_ONCE);
    ck_assert_int_eq(dm_transfers_running(t), 0);
    enum dm_webhook_outcome res = dm_webhook_result(r, o.rc, status, retry_after, cause, causelen);
    dm_webhook_request_free(r);
    dm_transfers_free(t);
    return res;
}

START_TEST(test_posts_are_classified)
{
    struct receiver rc = {0};
    rc.base = event_base_new();
    rc.http = evhttp_new(rc.base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(rc.http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    evhttp_set_gencb(rc.http, handle, &rc);
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
        rc.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    const struct {
        const char *path;
        enum dm_webhook_outcome want;
        long status;
        int64_t retry_after;
        const char *cause;
    } cases[] = {
        {"/ok", DM_WH_DELIVERED, 204, -1, "HTTP 204"},
        {"/busy", DM_WH_RETRY, 503, 7, "HTTP 503"},
        {"/slow-down", DM_WH_RETRY, 429, 11, "HTTP 429"},
        {"/gone", DM_WH_GONE, 410, -1, "HTTP 410"},
        {"/moved", DM_WH_RETRY, 302, -1, "HTTP 302"}, /* redirects are not followed */
        {"/broken", DM_WH_RETRY, 500, -1, "HTTP 500"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long status;
        int64_t ra;
        char cause[128];
        int before = rc.hits;
        enum dm_webhook_outcome got = post(&rc, cases[i].path, &status, &ra, cause, sizeof cause);
        ck_assert_int_eq(rc.hits, before + 1);
        ck_assert_msg(got == cases[i].want, "%s", cases[i].path);
        ck_assert_int_eq(status, cases[i].status);
        ck_assert_int_eq(ra, cases[i].retry_after);
        ck_assert_str_eq(cause, cases[i].cause);
    }
    /* What arrived is signed over "<id>.<timestamp>.<body>". */
    ck_assert_str_eq(rc.last_id, "msg_42");
    ck_assert_str_eq(rc.last_ts, "1700000000");
    ck_assert_str_eq(rc.last_body, "{\"type\":\"x\"}");
    {
        unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        unsigned char mac[32];
        unsigned int ml = 0;
        char text[600], want[64] = "v1,";
        snprintf(text, sizeof text, "msg_42.1700000000.%s", rc.last_body);
        HMAC(EVP_sha256(), key, 32, (unsigned char *)text, strlen(text), mac, &ml);
        EVP_EncodeBlock((unsigned char *)want + 3, mac, 32);
        ck_assert_str_eq(rc.last_sig, want);
    }
    /* Nobody listening: a retry, with a cause that names no URL. */
    evhttp_free(rc.http);
    long status;
    int64_t ra;
    char cause[128];
    ck_assert(post(&rc, "/ok", &status, &ra, cause, sizeof cause) == DM_WH_RETRY);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_null(strstr(cause, "127.0.0.1"));
    event_base_free(rc.base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("webhook");
    tcase_add_test(tc, test_sign_matches_the_specification_vector);
    tcase_add_test(tc, test_posts_are_classified);
    suite_add_tcase(s, tc);
    return dm_test_run(s);
}
