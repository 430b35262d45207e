/* Host names of a libpq connection string, resolved without blocking. */
#include "resolve.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "strbuf.h"
#include "util.h"

/* Addresses kept per name at most (libpq tries them in turn). */
#define MAX_ADDRS 8

/* One entry of the host list. */
struct entry {
    struct dm_resolve *r;
    char *host;
    char *port;  /* NULL when the port list is empty or has one entry for all */
    bool lookup; /* a name: needs the resolver */
    struct evdns_getaddrinfo_request *req; /* in flight */
    bool done;                             /* its callback came */
    char *addrs[MAX_ADDRS];
    size_t naddrs;
    int error; /* EVUTIL_EAI_* of a failed lookup */
};

struct dm_resolve {
    dm_resolve_fn fn;
    void *arg;
    bool cancelled;
    bool busy;        /* inside start or cancel: callbacks must not free r */
    bool scheduled;   /* every lookup ended at once: finish_cb is queued */
    size_t in_flight; /* lookups whose callback has not come */
    size_t n;
    struct entry *e;
};

static void resolve_free(struct dm_resolve *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->e[i].host);
        free(r->e[i].port);
        for (size_t k = 0; k < r->e[i].naddrs; k++)
            free(r->e[i].addrs[k]);
    }
    free(r->e);
    free(r);
}

/* Splits a comma-separated list; returns the count (at least 1). */
static size_t split(const char *list, char ***out)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    char **v = calloc(n, sizeof *v);
    if (v == NULL)
        abort();
    const char *p = list;
    for (size_t i = 0; i < n; i++) {
        size_t l = strcspn(p, ",");
        v[i] = strndup(p, l);
        if (v[i] == NULL)
            abort();
        p += l + (p[l] == ',');
    }
    *out = v;
    return n;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* True when libpq needs no lookup for this host entry. */
static bool literal_host(const char *h)
{
    unsigned char bin[16];
    return h[0] == '\0' || h[0] == '/' || h[0] == '@' || inet_pton(AF_INET, h, bin) == 1 ||
           inet_pton(AF_INET6, h, bin) == 1;
}

/* Builds the lists and calls the owner back, unless cancelled; frees r. */
static void finish(struct dm_resolve *r)
{
    if (r->cancelled) {
        resolve_free(r);
        return;
    }
    struct dm_strbuf host = {0}, addr = {0}, port = {0}, failed = {0};
    size_t out = 0;
    bool ports = false;
    for (size_t i = 0; i < r->n; i++)
        ports = ports || r->e[i].port != NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct entry *e = &r->e[i];
        size_t k_n = e->lookup ? e->naddrs : 1;
        if (e->lookup && e->naddrs == 0) {
            dm_strbuf_printf(&failed, "%s%s (%s)", failed.len ? ", " : "", e->host,
                             evutil_gai_strerror(e->error));
            continue;
        }
        for (size_t k = 0; k < k_n; k++) {
            const char *sep = out ? "," : "";
            dm_strbuf_printf(&host, "%s%s", sep, e->host);
            dm_strbuf_printf(&addr, "%s%s", sep, e->lookup ? e->addrs[k] : "");
            if (ports)
                dm_strbuf_printf(&port, "%s%s", sep, e->port ? e->port : "");
            out++;
        }
    }
    if (out == 0) {
        char err[512];
        snprintf(err, sizeof err, "could not resolve host name %s", failed.s);
        r->fn(r->arg, NULL, err);
    } else {
        const struct dm_resolved res = {host.s, addr.s, ports ? port.s : NULL};
        r->fn(r->arg, &res, NULL);
    }
    free(host.s);
    free(addr.s);
    free(port.s);
    free(failed.s);
    resolve_free(r);
}

static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
    finish(arg);
}

static void got_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
    struct entry *e = arg;
    struct dm_resolve *r = e->r;
    e->req = NULL;
    e->done = true;
    e->error = result;
    for (struct evutil_addrinfo *a = ai; result == 0 && a && e->naddrs < MAX_ADDRS;
         a = a->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *src = a->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
            inet_ntop(a->ai_family, src, buf, sizeof buf) == NULL)
            continue;
        bool seen = false;
        for (size_t k = 0; k < e->naddrs; k++)
            seen = seen || strcmp(e->addrs[k], buf) == 0;
        if (!seen)
            e->addrs[e->naddrs++] = dm_xstrdup(buf);
    }
    if (ai)
        evutil_freeaddrinfo(ai);
    if (--r->in_flight == 0 && !r->busy)
        finish(r);
}

/* The value of a keyword in parsed options, else the environment's. */
static const char *option(const PQconninfoOption *opts, const char *key, const char *env)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val && o->val[0])
            return o->val;
    const char *v = env ? getenv(env) : NULL;
    return v ? v : "";
}

struct dm_resolve *dm_resolve_start(struct event_base *base, struct evdns_base *dns,
                                    const char *conninfo, dm_resolve_fn fn, void *arg)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (opts == NULL) {
        PQfreemem(errmsg);
        return NULL;
    }
    const char *host = option(opts, "host", "PGHOST");
    const char *hostaddr = option(opts, "hostaddr", "PGHOSTADDR");
    const char *port = option(opts, "port", "PGPORT");
    const char *service = option(opts, "service", "PGSERVICE");
    char **hosts = NULL, **ports = NULL;
    size_t nhosts = 0, nports = 0;
    struct dm_resolve *r = NULL;

    if (host[0] == '\0' || hostaddr[0] != '\0' || (service[0] != '\0' && host[0] == '\0'))
        goto done;
    nhosts = split(host, &hosts);
    nports = port[0] ? split(port, &ports) : 0;
    if (nports > 1 && nports != nhosts)
        goto done; /* libpq says why */
    bool any = false;
    for (size_t i = 0; i < nhosts; i++)
        any = any || !literal_host(hosts[i]);
    if (!any)
        goto done;

    r = calloc(1, sizeof *r);
    if (r == NULL || (r->e = calloc(nhosts, sizeof *r->e)) == NULL)
        abort();
    r->fn = fn;
    r->arg = arg;
    r->n = nhosts;
    for (size_t i = 0; i < nhosts; i++) {
        struct entry *e = &r->e[i];
        e->r = r;
        e->host = dm_xstrdup(hosts[i]);
        e->port = nports > 1 ? dm_xstrdup(ports[i]) : nports == 1 ? dm_xstrdup(ports[0]) : NULL;
        e->lookup = !literal_host(hosts[i]);
    }
    r->busy = true;
    for (size_t i = 0; i < nhosts; i++) {
        struct entry *e = &r->e[i];
        if (!e->lookup)
            continue;
        struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        r->in_flight++;
        /* May call got_cb before it returns (the hosts file, a cached
         * answer, an error): then it returns NULL. */
        struct evdns_getaddrinfo_request *req =
            evdns_getaddrinfo(dns, e->host, NULL, &hints, got_cb, e);
        if (!e->done)
            e->req = req;
    }
    r->busy = false;
    if (r->in_flight == 0) {
        /* Everything answered at once: call back from the loop all the same. */
        r->scheduled = true;
        if (event_base_once(base, -1, EV_TIMEOUT, finish_cb, r, NULL) != 0)
            abort();
    }
done:
    if (hosts)
        free_list(hosts, nhosts);
    if (ports)
        free_list(ports, nports);
    PQconninfoFree(opts);
    return r;
}

void dm_resolve_cancel(struct dm_resolve *r)
{
    if (r == NULL)
        return;
    r->cancelled = true;
    if (r->scheduled)
        return; /* finish_cb frees it */
    r->busy = true;
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].req)
            evdns_getaddrinfo_cancel(r->e[i].req); /* got_cb comes, now or later */
    r->busy = false;
    if (r->in_flight == 0)
        resolve_free(r);
}
