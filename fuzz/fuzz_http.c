/*
 * Fuzzes the HTTP request handling: the fuzzed bytes are one client's
 * whole side of a TCP connection to the real server of lib/http.c
 * (libevent's request parser, then our routing, method and body checks,
 * Accept-Language negotiation, X-Forwarded-For and the token's shape).
 *
 * The server runs on its own event base, bound to 127.0.0.1 on a port the
 * kernel picks, with the tree's page templates and a database connection
 * that is never started: requests that pass every check get the 503 page
 * instead of a lookup. Each input: connect, send every byte, shut the
 * write side, read until the server closes. The answer, when there is one,
 * must be an HTTP status line (libevent answers "HTTP/0.1" to an HTTP/0.1 request).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "db.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "sql.h"

/* What dormantd gives the page (lib/env.h): never paused, never a dry run. */
static struct {
    struct event_base *base;
    struct dm_config *cfg;
    struct dm_sql_names names;
    struct dm_metrics metrics;
    struct dm_db *db_http;
    struct dm_http *http;
} d;

static bool no(void *owner)
{
    return false;
}
static struct sockaddr_in server;

/* The port the server bound: the one listening TCP socket of ours. */
static bool find_listener(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        int on = 0;
        socklen_t ol = sizeof on;
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0 && a.sin_family == AF_INET) {
            server = a;
            return true;
        }
    }
    return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char dir[] = "/tmp/dm-fuzz-http-XXXXXX";
    char path[sizeof dir + 32], err[1024];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/dormant.conf", dir);
    const char *templates = getenv("DM_FUZZ_TEMPLATES");
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fprintf(f,
            "database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
            "source = { table = \"public.subscribers\"; billing = { column = \"billing_status\"; "
            "}; };\n"
            "http = { listen = \"127.0.0.1:0\"; public_url = \"https://example.com/d\"; };\n"
            "email = { templates = \"%s\"; };\n"
            "log = { level = \"error\"; };\n",
            templates ? templates : DM_SOURCE_DIR "/etc/templates");
    fclose(f);
    d.cfg = dm_config_load(path, err, sizeof err);
    if (d.cfg == NULL) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        abort();
    }
    if (!dm_sql_names_build(&d.names, d.cfg, err, sizeof err)) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        abort();
    }
    struct dm_log_settings ls = dm_config_log_settings(d.cfg, "fuzz_http");
    if (!dm_log_configure(&ls, err, sizeof err))
        abort();
    d.base = event_base_new();
    d.db_http = dm_db_new(d.base, "http", d.cfg->database.conninfo);
    const struct dm_env env = {
        .base = d.base,
        .db = d.db_http,
        .cfg = d.cfg,
        .names = &d.names,
        .metrics = &d.metrics,
        .hooks = {.paused = no, .dry_run = no},
    };
    d.http = dm_http_new(&env, err, sizeof err);
    if (d.http == NULL || !find_listener()) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        abort();
    }
    return 0;
}

/* One connection's client side. */
struct client {
    int fd;
    struct event *ev;
    const uint8_t *data;
    size_t left;
    bool done;
    char head[16]; /* the first bytes of the answer */
    size_t headlen;
};

static void client_cb(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    if ((what & EV_WRITE) && c->left > 0) {
        ssize_t n = send(fd, c->data, c->left, MSG_NOSIGNAL);
        if (n > 0) {
            c->data += n;
            c->left -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN) {
            c->left = 0; /* the server closed: read what it said */
        }
        if (c->left == 0) {
            shutdown(fd, SHUT_WR);
            event_del(c->ev);
            event_assign(c->ev, d.base, fd, EV_READ | EV_PERSIST, client_cb, c);
            event_add(c->ev, NULL);
        }
    }
    if (what & EV_READ) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            size_t k = sizeof c->head - c->headlen;
            if ((size_t)n < k)
                k = (size_t)n;
            memcpy(c->head + c->headlen, buf, k);
            c->headlen += k;
        } else if (n == 0 || errno != EAGAIN) {
            c->done = true;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct client c = {.data = data, .left = size};
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c.fd < 0)
        abort();
    if (connect(c.fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS)
        abort();
    if (size == 0)
        shutdown(c.fd, SHUT_WR);
    c.ev = event_new(d.base, c.fd, size ? EV_READ | EV_WRITE | EV_PERSIST : EV_READ | EV_PERSIST,
                     client_cb, &c);
    event_add(c.ev, NULL);
    while (!c.done)
        event_base_loop(d.base, EVLOOP_ONCE);
    event_free(c.ev);
    /* Close with a reset: no TIME_WAIT on our side for a million connections. */
    struct linger lg = {1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c.fd);
    if (c.headlen > 0)
        FUZZ_ASSERT(c.headlen >= 9 && memcmp(c.head, "HTTP/", 5) == 0);
    return 0;
}
