/* The HTTP server: confirmation page, /healthz and /metrics. */
#include "http.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cidr.h"
#include "config.h"
#include "db.h"
#include "env.h"
#include "interval.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "ratelimit.h"
#include "sql.h"
#include "token.h"
#include "util.h"

/* Request bodies above this get 413 from us (a form with one field needs
 * a few bytes); libevent itself refuses anything above BODY_HARD_LIMIT. */
#define BODY_LIMIT      1024
#define BODY_HARD_LIMIT 65536
#define HEADERS_LIMIT   8192
/* Seconds a client may take to send its whole request, counted from the
 * moment it connected (conn_guard), and to read the answer. */
#define CLIENT_TIMEOUT_S 10
/* Milliseconds a request waits for the database before a 503. */
#define DB_WAIT_MS 10000
/* Requests waiting for the database at most; beyond, 503 at once (the
 * queue on the page's one connection stays bounded under a flood). */
#define MAX_PENDING 512
/* Failed token attempts per address: a burst, then one more per refill. */
#define LIMIT_SLOTS     4096
#define LIMIT_BURST     20
#define LIMIT_REFILL_MS 3000
/* Lookups from addresses over their failed-token budget that may wait for
 * the database at once: their links are still looked up (a working link is
 * never refused for someone else's forgeries), but they cannot take the
 * page's whole queue. */
#define BLOCKED_PENDING 32
/* X-Forwarded-For lines read at most (the last ones count). */
#define XFF_LINES 8

/* What a request waiting for the database is for. */
enum job {
    JOB_SHOW,    /* GET/HEAD /c/<token> */
    JOB_KEEP,    /* POST action=keep */
    JOB_PAUSE,   /* POST action=pause */
    JOB_HEALTH,  /* GET /healthz */
    JOB_METRICS, /* GET /metrics */
};

struct pending;
struct conn_guard;

struct dm_http {
    struct dm_env env; /* loop, connection, configuration, counters, hooks */
    struct evhttp *http;
    struct evhttp_bound_socket *sock; /* NULL once stopped */
    char *listen;                     /* the "host:port" sock is bound to */
    struct dm_pages *pages;           /* every language's pages (lib/page.c) */
    struct dm_ratelimit *limit;       /* failed token attempts per client address */
    struct dm_cidr *proxies;          /* http.trusted_proxies, parsed */
    size_t nproxies;
    struct pending *pending;   /* requests waiting for the database */
    size_t npending;           /* how many are linked in pending */
    size_t nblocked;           /* of those, lookups for clients over their budget */
    struct conn_guard *guards; /* connections whose request is not complete yet */
    /* Statements built from the configuration at load and reload. */
    char *sql_lookup, *sql_keep, *sql_pause, *sql_health, *sql_metrics;
    char confirm_within[128]; /* policy.confirm_within, the lookup's $2 */
};

/* A request waiting for the database. Outlives the request when it times out
 * (req = NULL) and the server when it is freed (h = NULL): the database
 * always calls back exactly once, and that callback frees it, unless
 * timer_cb withdrew the statement before it was sent (and freed it). */
struct pending {
    struct pending *prev, *next;
    struct dm_http *h;
    struct evhttp_request *req;
    struct event *timer; /* gives up with a 503 after DB_WAIT_MS */
    enum job job;
    char lang[17];   /* language of the error pages, from Accept-Language (the pages may be
                        reloaded while the request waits: kept by name) */
    char client[64]; /* rate-limit key */
    bool blocked;    /* the client was over its failed-token budget (counted in nblocked) */
};

/*
 * A connection whose request has not fully arrived. evhttp's own timeout
 * restarts with every byte read, so a client sending a header line a second
 * would stay for ever; the guard closes it CLIENT_TIMEOUT_S after it opened
 * unless its request is complete by then. Every answer carries
 * "Connection: close", so a connection carries one request and the bound
 * covers all of it.
 *
 * Lifetime: created in bevcb() when evhttp accepts (before the connection
 * object exists; the guard holds a reference on its bufferevent, so it can
 * look at it whatever evhttp did meanwhile). Its timer first fires at once,
 * in the same loop iteration, to find the evhttp connection and register
 * guard_closed() as its close callback; then after CLIENT_TIMEOUT_S. It is
 * freed when the request is complete (request_cb), when evhttp closes the
 * connection (guard_closed), or when the timer closes it.
 */
struct conn_guard {
    struct conn_guard *prev, *next;
    struct dm_http *h;
    struct bufferevent *bev;         /* the connection's; one reference is ours */
    struct evhttp_connection *evcon; /* NULL until adopted */
    struct event *timer;
};

/* -- responses --------------------------------------------------------- */

/* The headers of DESIGN §8, on every answer. */
static void add_headers(struct evhttp_request *req, const char *content_type)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", content_type);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "Referrer-Policy", "no-referrer");
    evhttp_add_header(out, "Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                      "frame-ancestors 'none'; base-uri 'none'");
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    /* One request per connection: the 10 s bound of conn_guard covers it whole. */
    evhttp_add_header(out, "Connection", "close");
}

static void respond(struct evhttp_request *req, int code, const char *reason,
                    const char *content_type, const char *body)
{
    struct evbuffer *buf = evbuffer_new();
    if (buf == NULL)
        abort();
    add_headers(req, content_type);
    evbuffer_add(buf, body, strlen(body));
    evhttp_send_reply(req, code, reason, buf);
    evbuffer_free(buf);
}

/* Sends page p in language lang (a name from lib/page.c), with the
 * deadline (ISO 8601 UTC, or NULL) shown in email.timezone where it appears. */
static void respond_page(struct dm_http *h, struct evhttp_request *req, int code,
                         const char *reason, const char *lang, enum dm_page p, const char *deadline)
{
    char *body = dm_page_render(h->pages, lang, p, deadline, h->env.cfg->email.timezone);
    respond(req, code, reason, "text/html; charset=utf-8", body);
    free(body);
}

static void respond_unavailable(struct dm_http *h, struct evhttp_request *req, const char *lang)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "30");
    respond_page(h, req, 503, "Service Unavailable", lang, DM_PAGE_UNAVAILABLE, NULL);
}

static void respond_method(struct evhttp_request *req, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    respond(req, 405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n");
}

/* -- clients ----------------------------------------------------------- */

static bool trusted_proxy(const struct dm_http *h, const char *addr)
{
    for (size_t i = 0; i < h->nproxies; i++)
        if (dm_cidr_contains(&h->proxies[i], addr))
            return true;
    return false;
}

/* Copies the hop of an X-Forwarded-For value that ends at end (exclusive),
 * trimmed, into hop; returns where the hop starts. */
static const char *xff_hop(const char *value, const char *end, char *hop, size_t len)
{
    const char *start = end;
    while (start > value && start[-1] != ',')
        start--;
    const char *a = start, *b = end;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    size_t n = (size_t)(b - a);
    if (n >= len)
        n = 0;
    memcpy(hop, a, n);
    hop[n] = '\0';
    return start;
}

/*
 * The address failed attempts are counted against: the peer, unless the
 * peer is a trusted proxy (http.trusted_proxies). Then X-Forwarded-For is
 * read from its end, each hop written by the proxy after it: the first hop
 * that is not itself a trusted proxy is the client. Whatever a client wrote
 * in front of that is never believed; a hop that is not an address stops
 * the walk at the proxy that wrote it. Several X-Forwarded-For lines count
 * as one list, in order.
 */
static void client_key(const struct dm_http *h, struct evhttp_request *req, char *out, size_t len)
{
    char *peer = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon)
        evhttp_connection_get_peer(evcon, &peer, &port);
    snprintf(out, len, "%s", peer ? peer : "unknown");
    if (peer == NULL || !trusted_proxy(h, peer))
        return;
    const char *lines[XFF_LINES];
    size_t n = 0;
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
    {
        if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
            continue;
        if (n == XFF_LINES) {
            memmove(lines, lines + 1, (XFF_LINES - 1) * sizeof *lines);
            n--;
        }
        lines[n++] = kv->value;
    }
    while (n > 0) {
        const char *value = lines[--n];
        const char *end = value + strlen(value);
        while (end > value) {
            char hop[64];
            const char *start = xff_hop(value, end, hop, sizeof hop);
            if (!dm_cidr_is_address(hop))
                return;
            snprintf(out, len, "%s", hop);
            if (!trusted_proxy(h, hop))
                return;
            end = start > value ? start - 1 : value;
        }
    }
}

/*
 * Answers a token that does not work (malformed, unknown, used, expired):
 * one failure counted against the client, then 404, or 429 with
 * Retry-After when the client was already over its budget. Only failures
 * are ever refused this way: a working link is answered whatever its
 * address did. Logs once when the address trips the limit.
 */
static void refuse(struct dm_http *h, struct evhttp_request *req, const char *client,
                   const char *lang)
{
    int64_t now = dm_now_ms();
    bool blocked = dm_ratelimit_blocked(h->limit, client, now);
    dm_ratelimit_charge(h->limit, client, now);
    if (!blocked) {
        if (dm_ratelimit_blocked(h->limit, client, now))
            dm_log_warning("too many invalid confirmation links from one address: refusing them "
                           "for a while",
                           DM_S("client", client));
        respond_page(h, req, 404, "Not Found", lang, DM_PAGE_NOTFOUND, NULL);
        return;
    }
    char after[24];
    snprintf(after, sizeof after, "%lld",
             (long long)(dm_ratelimit_retry_ms(h->limit, client, now) + 999) / 1000);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", after);
    respond_page(h, req, 429, "Too Many Requests", lang, DM_PAGE_TOOMANY, NULL);
}

/* -- waiting for the database ----------------------------------------- */

static void pending_unlink(struct pending *p)
{
    if (p->h == NULL)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else if (p->h->pending == p)
        p->h->pending = p->next;
    else
        return; /* never linked */
    p->h->npending--;
    if (p->blocked)
        p->h->nblocked--;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void pending_free(struct pending *p)
{
    pending_unlink(p);
    if (p->timer)
        event_free(p->timer);
    free(p);
}

static void respond_health_down(struct evhttp_request *req, const char *why)
{
    char body[64];
    snprintf(body, sizeof body, "{\"db\":\"%s\"}\n", why);
    respond(req, 503, "Service Unavailable", "application/json", body);
}

static void respond_metrics(struct dm_http *h, struct evhttp_request *req,
                            const struct dm_metrics_scrape *s)
{
    char *text = dm_metrics_render(h->env.metrics, s);
    respond(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text);
    free(text);
}

static struct dm_metrics_scrape scrape_base(const struct dm_http *h)
{
    struct dm_metrics_scrape s;
    memset(&s, 0, sizeof s);
    s.paused = h->env.hooks.paused(h->env.hooks.owner);
    s.http_up = dm_db_up(h->env.db);
    s.poll_interval_seconds = (double)dm_interval_ms(&h->env.cfg->limits.poll_interval) / 1000.0;
    return s;
}

/* The database gave up or never answered: every job has its 503 (metrics
 * still answers, with what this process knows). */
static void respond_no_db(struct dm_http *h, struct pending *p)
{
    switch (p->job) {
    case JOB_HEALTH:
        respond_health_down(p->req, "down");
        break;
    case JOB_METRICS: {
        struct dm_metrics_scrape s = scrape_base(h);
        respond_metrics(h, p->req, &s);
        break;
    }
    default:
        respond_unavailable(h, p->req, p->lang);
    }
}

/*
 * A request waited DB_WAIT_MS. Its statement, if still queued, is taken
 * back and the answer is 503 with Retry-After: nothing was changed, nor
 * will be. An answer (keep, pause) whose statement is already running
 * waits for it instead, so that a 503 never hides a recorded answer; a
 * lookup gets its 503 now and its result is dropped.
 */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    struct dm_http *h = p->h;
    if (h == NULL || p->req == NULL)
        return;
    if (dm_db_withdraw(h->env.db, p)) {
        dm_log_warning("database too slow: answered 503", DM_I("waited_ms", DB_WAIT_MS));
        respond_no_db(h, p);
        pending_free(p);
        return;
    }
    if (p->job == JOB_KEEP || p->job == JOB_PAUSE) {
        dm_log_warning("database slow: an answer is being recorded, waiting for its outcome",
                       DM_I("waited_ms", DB_WAIT_MS));
        return;
    }
    dm_log_warning("database too slow: answered 503", DM_I("waited_ms", DB_WAIT_MS));
    respond_no_db(h, p);
    p->req = NULL;
}

/* The answer to one job; res NULL when the connection was lost. */
static void result_cb(void *arg, PGresult *res)
{
    struct pending *p = arg;
    struct dm_http *h = p->h;
    struct evhttp_request *req = p->req;
    if (h == NULL || req == NULL) {
        pending_free(p);
        return;
    }
    if (!dm_db_ok(res)) {
        dm_log_error("http: statement failed", DM_S("error", dm_db_error(res)));
        if (p->job == JOB_HEALTH)
            respond_health_down(req, res ? "error" : "down");
        else
            respond_no_db(h, p);
        pending_free(p);
        return;
    }
    switch (p->job) {
    case JOB_SHOW:
        if (PQntuples(res) == 0) {
            refuse(h, req, p->client, p->lang);
        } else {
            const char *locale = PQgetisnull(res, 0, 3) ? "en" : PQgetvalue(res, 0, 3);
            /* The deadline, in UTC from the lookup. */
            char iso[64];
            snprintf(iso, sizeof iso, "%sT%sZ", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
            respond_page(h, req, 200, "OK", dm_pages_language(h->pages, locale), DM_PAGE_ASK, iso);
        }
        break;
    case JOB_KEEP:
    case JOB_PAUSE:
        if (PQntuples(res) == 0) {
            refuse(h, req, p->client, p->lang);
        } else {
            bool keep = p->job == JOB_KEEP;
            h->env.metrics->transitions[keep ? DM_T_CONFIRMED : DM_T_DECLINED]++;
            dm_log_info(keep ? "subscriber confirmed: keeps the subscription"
                             : "subscriber declined: billing paused",
                        DM_S("subscriber", PQgetvalue(res, 0, 0)),
                        DM_S("outbox_id", PQgetvalue(res, 0, 1)));
            /* In the subscriber's language, as the question was. */
            const char *locale = PQgetisnull(res, 0, 3) ? p->lang : PQgetvalue(res, 0, 3);
            respond_page(h, req, 200, "OK", dm_pages_language(h->pages, locale),
                         keep ? DM_PAGE_KEPT : DM_PAGE_PAUSED, NULL);
        }
        break;
    case JOB_HEALTH:
        if (PQntuples(res) != 1) {
            respond_health_down(req, "error");
        } else {
            char *body = NULL;
            if (asprintf(&body, "%s\n", PQgetvalue(res, 0, 0)) < 0)
                abort();
            respond(req, 200, "OK", "application/json", body);
            free(body);
        }
        break;
    case JOB_METRICS: {
        struct dm_metrics_scrape s = scrape_base(h);
        s.counted = true;
        for (int i = 0; i < PQntuples(res); i++) {
            const char *what = PQgetvalue(res, i, 0), *state = PQgetvalue(res, i, 1);
            long long n = atoll(PQgetvalue(res, i, 2));
            if (strcmp(what, "account") == 0) {
                for (int k = 0; k < DM_ACCOUNT_STATE_COUNT; k++)
                    if (strcmp(state, dm_account_state_names[k]) == 0)
                        s.accounts[k] = n;
            } else if (strcmp(what, "outbox") == 0) {
                for (int k = 0; k < DM_OUTBOX_STATE_COUNT; k++)
                    if (strcmp(state, dm_outbox_state_names[k]) == 0)
                        s.outbox[k] = n;
            } else if (strcmp(what, "paused") == 0) {
                s.paused = s.paused || strcmp(state, "1") == 0;
            }
        }
        respond_metrics(h, req, &s);
        break;
    }
    }
    pending_free(p);
}

/* Sends sql for job on the page's connection; answers 503 (with
 * Retry-After, nothing sent) at once when the database is down or the queue
 * is full: MAX_PENDING in all, BLOCKED_PENDING for clients over their
 * failed-token budget (blocked). Returns without answering otherwise:
 * result_cb will. */
static void submit(struct dm_http *h, struct evhttp_request *req, enum job job, const char *sql,
                   int nparams, const char *const *params, const char *lang, const char *client,
                   bool blocked)
{
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        abort();
    p->h = h;
    p->req = req;
    p->job = job;
    snprintf(p->lang, sizeof p->lang, "%s", lang);
    snprintf(p->client, sizeof p->client, "%s", client ? client : "");
    if (h->npending >= MAX_PENDING || (blocked && h->nblocked >= BLOCKED_PENDING) ||
        !dm_db_up(h->env.db) || !dm_db_send(h->env.db, sql, nparams, params, result_cb, p)) {
        respond_no_db(h, p);
        free(p);
        return;
    }
    p->blocked = blocked;
    h->nblocked += blocked;
    p->next = h->pending;
    if (h->pending)
        h->pending->prev = p;
    h->pending = p;
    h->npending++;
    p->timer = evtimer_new(h->env.base, timer_cb, p);
    struct timeval tv = {DB_WAIT_MS / 1000, (DB_WAIT_MS % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

/* -- connections ------------------------------------------------------- */

static void guard_free(struct conn_guard *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        g->h->guards = g->next;
    if (g->next)
        g->next->prev = g->prev;
    event_free(g->timer);
    /* evhttp still holds its own reference while the connection lives;
     * when it has let go, this closes the socket. */
    bufferevent_decref(g->bev);
    free(g);
}

/* evhttp is closing the connection. */
static void guard_closed(struct evhttp_connection *evcon, void *arg)
{
    guard_free(arg);
}

/* The connection evhttp built on g->bev, or NULL once evhttp has let it go
 * (it clears the bufferevent's callbacks when it frees the connection). */
static struct evhttp_connection *guard_connection(const struct conn_guard *g)
{
    bufferevent_event_cb eventcb = NULL;
    void *arg = NULL;
    bufferevent_getcb(g->bev, NULL, NULL, &eventcb, &arg);
    return eventcb ? arg : NULL;
}

static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn_guard *g = arg;
    struct evhttp_connection *evcon = guard_connection(g);
    if (evcon == NULL || (g->evcon != NULL && evcon != g->evcon)) {
        guard_free(g); /* already gone */
        return;
    }
    if (g->evcon == NULL) {
        /* Just accepted: evhttp has built the connection in this same
         * callback; watch it close, and bound it. */
        g->evcon = evcon;
        evhttp_connection_set_closecb(evcon, guard_closed, g);
        struct timeval tv = {CLIENT_TIMEOUT_S, 0};
        evtimer_add(g->timer, &tv);
        return;
    }
    dm_log_debug("http: closed a connection whose request was not complete in time",
                 DM_I("seconds", CLIENT_TIMEOUT_S));
    evhttp_connection_free(evcon); /* calls guard_closed */
}

/* evhttp accepted a connection: its bufferevent, with a guard on it. */
static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
    struct dm_http *h = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct conn_guard *g = calloc(1, sizeof *g);
    if (bev == NULL || g == NULL)
        abort();
    g->h = h;
    g->bev = bev;
    bufferevent_incref(bev);
    g->timer = evtimer_new(base, guard_cb, g);
    if (g->timer == NULL)
        abort();
    g->next = h->guards;
    if (h->guards)
        h->guards->prev = g;
    h->guards = g;
    event_active(g->timer, EV_TIMEOUT, 0);
    return bev;
}

/* The request on evcon is complete: its connection is no longer bounded. */
static void guard_release(struct dm_http *h, struct evhttp_connection *evcon)
{
    for (struct conn_guard *g = h->guards; g; g = g->next)
        if (g->evcon == evcon) {
            evhttp_connection_set_closecb(evcon, NULL, NULL);
            guard_free(g);
            return;
        }
}

/* -- routes ------------------------------------------------------------ */

/* Reads action=keep|pause from a small urlencoded body. */
static bool parse_action(struct evhttp_request *req, enum job *job)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char body[BODY_LIMIT + 1];
    if (n > BODY_LIMIT)
        return false;
    evbuffer_copyout(in, body, n);
    body[n] = '\0';
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (evhttp_parse_query_str(body, &q) != 0) {
        evhttp_clear_headers(&q);
        return false;
    }
    const char *action = evhttp_find_header(&q, "action");
    bool ok = true;
    if (action && strcmp(action, "keep") == 0)
        *job = JOB_KEEP;
    else if (action && strcmp(action, "pause") == 0)
        *job = JOB_PAUSE;
    else
        ok = false;
    evhttp_clear_headers(&q);
    return ok;
}

/*
 * /c/<token>: GET and HEAD show the question (read-only), POST applies
 * action=keep|pause. In order: method (405), body size (413), the token's
 * shape (refused: 404, or 429 over the budget), the action (400), dry run
 * (503); then one statement on the page's own connection, answered from
 * result_cb (refused when the token is not live; 503 when the database
 * cannot say). A client over its failed-token budget is still looked up,
 * so its working links work; only its failures get 429.
 */
static void handle_confirm(struct dm_http *h, struct evhttp_request *req, const char *token)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    const char *lang = dm_pages_negotiate(
        h->pages, evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language"));
    char client[64];

    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD && method != EVHTTP_REQ_POST) {
        respond_method(req, "GET, HEAD, POST");
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > BODY_LIMIT) {
        respond(req, 413, "Payload Too Large", "text/plain; charset=utf-8",
                "request body too large\n");
        return;
    }
    client_key(h, req, client, sizeof client);
    if (!dm_token_well_formed(token)) {
        refuse(h, req, client, lang);
        return;
    }
    bool blocked = dm_ratelimit_blocked(h->limit, client, dm_now_ms());
    enum job job = JOB_SHOW;
    if (method == EVHTTP_REQ_POST && !parse_action(req, &job)) {
        respond_page(h, req, 400, "Bad Request", lang, DM_PAGE_BADREQUEST, NULL);
        return;
    }
    if (job != JOB_SHOW && h->env.hooks.dry_run(h->env.hooks.owner)) {
        /* Dry run writes nothing; saying "done" would be a lie the
         * subscriber pays for later. Nothing changed: try again later. */
        dm_log_info("dry run: an answer on the page was not recorded",
                    DM_S("action", job == JOB_KEEP ? "keep" : "pause"));
        respond_unavailable(h, req, lang);
        return;
    }
    char hash[DM_TOKEN_HASH_HEX_SIZE];
    dm_token_hash_hex(token, hash);
    if (job == JOB_SHOW) {
        const char *params[] = {hash, h->confirm_within};
        submit(h, req, job, h->sql_lookup, 2, params, lang, client, blocked);
    } else {
        const char *params[] = {hash, "subscriber", NULL};
        submit(h, req, job, job == JOB_KEEP ? h->sql_keep : h->sql_pause, 3, params, lang, client,
               blocked);
    }
}

static void handle_health(struct dm_http *h, struct evhttp_request *req)
{
    const char *params[] = {h->env.hooks.paused(h->env.hooks.owner) ? "true" : "false",
                            h->env.lease ? dm_lease_id(h->env.lease) : "",
                            h->env.metrics->endpoint_disabled[DM_CH_WEBHOOK] ? "true" : "false"};
    if (!dm_db_up(h->env.db)) {
        respond_health_down(req, "down");
        return;
    }
    submit(h, req, JOB_HEALTH, h->sql_health, 3, params, "en", NULL, false);
}

static void handle_metrics(struct dm_http *h, struct evhttp_request *req)
{
    submit(h, req, JOB_METRICS, h->sql_metrics, 0, NULL, "en", NULL, false);
}

/* Every request comes here. Paths are never logged as they are: a
 * confirmation path holds a token. */
static void request_cb(struct evhttp_request *req, void *arg)
{
    struct dm_http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);

    guard_release(h, evhttp_request_get_connection(req));
    if (path == NULL)
        path = "";
    if (strncmp(path, "/c/", 3) == 0) {
        handle_confirm(h, req, path + 3);
        return;
    }
    bool health = strcmp(path, "/healthz") == 0, metrics = strcmp(path, "/metrics") == 0;
    if (health || metrics) {
        if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
            respond_method(req, "GET, HEAD");
            return;
        }
        if (health)
            handle_health(h, req);
        else
            handle_metrics(h, req);
        return;
    }
    respond_page(
        h, req, 404, "Not Found",
        dm_pages_negotiate(
            h->pages, evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language")),
        DM_PAGE_NOTFOUND, NULL);
}

/* -- lifecycle --------------------------------------------------------- */

/* Parses http.trusted_proxies (validated by the configuration's load). */
static void load_proxies(struct dm_http *h)
{
    const struct dm_string_list *l = &h->env.cfg->http.trusted_proxies;
    struct dm_cidr *p = calloc(l->n ? l->n : 1, sizeof *p);
    size_t n = 0;
    if (p == NULL)
        abort();
    for (size_t i = 0; i < l->n; i++)
        if (dm_cidr_parse(l->items[i], &p[n]))
            n++;
    free(h->proxies);
    h->proxies = p;
    h->nproxies = n;
}

static void build_sql(struct dm_http *h)
{
    static const char *const health_params[] = {"paused", "instance", "webhook_disabled", NULL};
    const struct dm_sql_names *n = h->env.names;
    struct dm_stmt health, metrics;
    free(h->sql_lookup);
    free(h->sql_keep);
    free(h->sql_pause);
    free(h->sql_health);
    free(h->sql_metrics);
    h->sql_lookup = dm_answer_lookup_sql(n);
    h->sql_keep = dm_answer_sql(n, DM_ANSWER_KEEP, DM_ANSWER_BY_TOKEN);
    h->sql_pause = dm_answer_sql(n, DM_ANSWER_PAUSE, DM_ANSWER_BY_TOKEN);
    dm_sql_render(&health, dm_sql(DM_SQL_HTTP_HEALTH), n, health_params);
    dm_sql_render(&metrics, dm_sql(DM_SQL_HTTP_METRICS), n, NULL);
    h->sql_health = health.sql;
    h->sql_metrics = metrics.sql;
    dm_interval_sql(&h->env.cfg->policy.confirm_within, h->confirm_within,
                    sizeof h->confirm_within);
}

/* Binds cfg's http.listen; NULL with err when it cannot. */
static struct evhttp_bound_socket *bind_listen(struct dm_http *h, char *err, size_t errlen)
{
    const struct dm_config *cfg = h->env.cfg;
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(
        h->http, cfg->http.listen_host, (ev_uint16_t)cfg->http.listen_port);
    if (s == NULL)
        snprintf(err, errlen, "cannot bind %s: %m", cfg->http.listen);
    return s;
}

struct dm_http *dm_http_new(const struct dm_env *env, char *err, size_t errlen)
{
    struct dm_http *h = dm_xcalloc(1, sizeof *h);
    h->env = *env;
    h->http = evhttp_new(env->base);
    if (h->http == NULL) {
        snprintf(err, errlen, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_gencb(h->http, request_cb, h);
    evhttp_set_bevcb(h->http, bevcb, h);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(h->http, CLIENT_TIMEOUT_S);
    evhttp_set_max_body_size(h->http, BODY_HARD_LIMIT);
    evhttp_set_max_headers_size(h->http, HEADERS_LIMIT);
    h->sock = bind_listen(h, err, errlen);
    if (h->sock == NULL)
        goto fail;
    h->listen = strdup(env->cfg->http.listen);
    h->limit = dm_ratelimit_new(LIMIT_SLOTS, LIMIT_BURST, LIMIT_REFILL_MS);
    dm_pages_free(h->pages);
    h->pages = dm_pages_load(h->env.cfg->email.templates);
    load_proxies(h);
    build_sql(h);
    return h;
fail:
    dm_http_free(h);
    return NULL;
}

void dm_http_reconfigure(struct dm_http *h, const struct dm_config *cfg,
                         const struct dm_sql_names *names)
{
    char err[512];
    h->env.cfg = cfg;
    h->env.names = names;
    dm_pages_free(h->pages);
    h->pages = dm_pages_load(h->env.cfg->email.templates);
    load_proxies(h);
    build_sql(h);
    if (h->sock == NULL || strcmp(h->listen, h->env.cfg->http.listen) == 0)
        return;
    struct evhttp_bound_socket *s = bind_listen(h, err, sizeof err);
    if (s == NULL) {
        dm_log_error("http.listen changed but the new address cannot be bound: keeping the old one",
                     DM_S("listen", h->listen), DM_S("error", err));
        return;
    }
    evhttp_del_accept_socket(h->http, h->sock);
    h->sock = s;
    free(h->listen);
    h->listen = strdup(h->env.cfg->http.listen);
    dm_log_info("http: listening on the new address", DM_S("listen", h->listen));
}

void dm_http_stop(struct dm_http *h)
{
    if (h->sock) {
        evhttp_del_accept_socket(h->http, h->sock);
        h->sock = NULL;
    }
}

size_t dm_http_inflight(const struct dm_http *h)
{
    size_t n = 0;
    for (const struct pending *p = h->pending; p; p = p->next)
        n += p->req != NULL; /* timed-out ones no longer wait for anything */
    return n;
}

void dm_http_free(struct dm_http *h)
{
    if (h == NULL)
        return;
    /* Requests still waiting for the database are orphaned: their callback
     * (called by dm_db_free at the latest) frees them without answering. */
    for (struct pending *p = h->pending, *next; p; p = next) {
        next = p->next;
        p->h = NULL;
        p->req = NULL;
        p->prev = p->next = NULL;
        if (p->timer) {
            event_free(p->timer);
            p->timer = NULL;
        }
    }
    if (h->http)
        evhttp_free(h->http); /* closes every connection: their guards go */
    while (h->guards)         /* accepted in the last loop iteration, never adopted */
        guard_free(h->guards);
    dm_pages_free(h->pages);
    free(h->proxies);
    dm_ratelimit_free(h->limit);
    free(h->listen);
    free(h->sql_lookup);
    free(h->sql_keep);
    free(h->sql_pause);
    free(h->sql_health);
    free(h->sql_metrics);
    free(h);
}
