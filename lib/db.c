/* Non-blocking PostgreSQL connections driven by the event loop. */
#include "db.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "resolve.h"
#include "util.h"

/* Backoff between connection attempts: doubles from MIN to MAX. */
#define BACKOFF_MIN_MS     250
#define BACKOFF_MAX_MS     15000
#define CONNECT_TIMEOUT_MS 10000
/* Modules that may watch one connection come and go. */
#define DB_STATE_LISTENERS 4

/* One statement waiting to be sent, or in flight (the queue's head). */
struct query {
    struct query *next;
    char *sql;
    int nparams;
    char **values;
    dm_db_result_fn fn;
    void *arg;
};

/* Where the connection stands. */
enum db_phase {
    DB_DOWN,       /* no connection; a reconnect timer may be pending */
    DB_CONNECTING, /* host names being looked up, or PQconnectPoll in progress */
    DB_UP,         /* connected; queries flow */
};

struct dm_db {
    struct event_base *base;
    char *name;
    char *conninfo;
    bool conninfo_changed; /* reconnect once idle */
    bool closed;           /* dm_db_close() was called: never connect again */
    PGconn *conn;
    enum db_phase phase;
    struct evdns_base *dns;       /* made at the first host name to look up */
    struct dm_resolve *resolving; /* the lookup before PQconnectStartParams */
    struct event *io;        /* socket readiness; rebuilt when the socket or interest changes */
    int io_fd;               /* socket io watches, -1 when none */
    short io_what;           /* EV_READ / EV_WRITE interest of io */
    struct event *timer;     /* reconnect backoff and connect timeout */
    int backoff_ms;          /* next delay */
    bool outage_logged;      /* an outage line was written and no recovery line yet */
    struct timespec down_at; /* when the outage began */
    struct query *head, *tail;
    bool sent;      /* head has been sent and awaits its results */
    bool flushing;  /* PQflush returned 1: wait for write as well */
    PGresult *keep; /* result handed to the callback for the head */
    struct {
        dm_db_state_fn fn;
        void *arg;
    } state[DB_STATE_LISTENERS]; /* called in the order they were added */
    int nstate;
    dm_db_notify_fn notify_fn;
    void *notify_arg;
};

static void connect_begin(struct dm_db *db);
static void tell_state(struct dm_db *db, bool up);
static void io_cb(evutil_socket_t fd, short what, void *arg);
static void pump(struct dm_db *db);

bool dm_db_ok(const PGresult *res)
{
    if (res == NULL)
        return false;
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

const char *dm_db_error(const PGresult *res)
{
    if (res == NULL)
        return "connection lost";
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return m ? m : PQresStatus(PQresultStatus(res));
}

struct dm_db *dm_db_new(struct event_base *base, const char *name, const char *conninfo)
{
    struct dm_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        abort();
    db->base = base;
    db->name = dm_xstrdup(name);
    db->conninfo = dm_xstrdup(conninfo);
    db->io_fd = -1;
    db->backoff_ms = BACKOFF_MIN_MS;
    db->timer = evtimer_new(base, NULL, NULL);
    return db;
}

void dm_db_on_state(struct dm_db *db, dm_db_state_fn fn, void *arg)
{
    if (db->nstate == DB_STATE_LISTENERS)
        abort(); /* a fixed, small number of modules share a connection */
    db->state[db->nstate].fn = fn;
    db->state[db->nstate].arg = arg;
    db->nstate++;
}

/* Tells every state listener that the connection came up or went away. */
static void tell_state(struct dm_db *db, bool up)
{
    for (int i = 0; i < db->nstate; i++)
        db->state[i].fn(db->state[i].arg, up);
}

void dm_db_on_notify(struct dm_db *db, dm_db_notify_fn fn, void *arg)
{
    db->notify_fn = fn;
    db->notify_arg = arg;
}

bool dm_db_up(const struct dm_db *db)
{
    return db->phase == DB_UP;
}

bool dm_db_idle(const struct dm_db *db)
{
    return db->head == NULL;
}

/* Watches the connection's socket for what. The socket may change during
 * connection setup, so it is read again every time. */
static void watch(struct dm_db *db, short what)
{
    int fd = db->conn ? PQsocket(db->conn) : -1;
    if (db->io != NULL && fd == db->io_fd && what == db->io_what)
        return;
    if (db->io != NULL) {
        event_free(db->io);
        db->io = NULL;
    }
    db->io_fd = fd;
    db->io_what = what;
    if (fd < 0 || what == 0)
        return;
    db->io = event_new(db->base, fd, what | EV_PERSIST, io_cb, db);
    event_add(db->io, NULL);
}

static void free_query(struct query *q)
{
    for (int i = 0; i < q->nparams; i++)
        free(q->values[i]);
    free(q->values);
    free(q->sql);
    free(q);
}

/* Removes the head of the queue and calls it back with res. */
static void finish_head(struct dm_db *db, PGresult *res)
{
    struct query *q = db->head;
    db->head = q->next;
    if (db->head == NULL)
        db->tail = NULL;
    db->sent = false;
    if (q->fn)
        q->fn(q->arg, res);
    free_query(q);
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dm_db *db = arg;
    if (db->phase == DB_CONNECTING) {
        /* The connect timer fired: this attempt took too long. */
        const char *why =
            db->resolving ? "host name lookup timed out" : "connection attempt timed out";
        dm_resolve_cancel(db->resolving);
        db->resolving = NULL;
        PQfinish(db->conn);
        db->conn = NULL;
        watch(db, 0);
        db->phase = DB_DOWN;
        if (!db->outage_logged) {
            dm_log_error("database unreachable", DM_S("conn", db->name), DM_S("error", why));
            db->outage_logged = true;
            clock_gettime(CLOCK_MONOTONIC, &db->down_at);
        }
    }
    connect_begin(db);
}

/* Schedules the next connection attempt with jittered, capped backoff. */
static void schedule_retry(struct dm_db *db)
{
    if (db->closed)
        return;
    int base = db->backoff_ms;
    int jitter = base / 4 > 0 ? rand() % (base / 2 + 1) - base / 4 : 0;
    struct timeval tv = {.tv_sec = (base + jitter) / 1000,
                         .tv_usec = ((base + jitter) % 1000) * 1000};
    db->backoff_ms = base * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : base * 2;
    evtimer_assign(db->timer, db->base, retry_cb, db);
    evtimer_add(db->timer, &tv);
}

/* The connection failed or was lost: fail everything queued, tell the
 * owner, and try again later. */
static void lost(struct dm_db *db, const char *why)
{
    bool was_up = db->phase == DB_UP;
    watch(db, 0);
    evtimer_del(db->timer);
    if (db->keep) {
        PQclear(db->keep);
        db->keep = NULL;
    }
    PQfinish(db->conn);
    db->conn = NULL;
    db->phase = DB_DOWN;
    db->flushing = false;
    if (!db->outage_logged) {
        dm_log_error("database unreachable", DM_S("conn", db->name), DM_S("error", why));
        db->outage_logged = true;
        clock_gettime(CLOCK_MONOTONIC, &db->down_at);
    }
    while (db->head != NULL)
        finish_head(db, NULL);
    if (was_up)
        tell_state(db, false);
    schedule_retry(db);
}

static void connected(struct dm_db *db)
{
    evtimer_del(db->timer);
    db->phase = DB_UP;
    db->backoff_ms = BACKOFF_MIN_MS;
    if (PQsetnonblocking(db->conn, 1) != 0) {
        lost(db, "cannot make the connection non-blocking");
        return;
    }
    if (db->outage_logged) {
        dm_log_info("database connection restored", DM_S("conn", db->name),
                    DM_I("down_ms", elapsed_ms(&db->down_at)));
        db->outage_logged = false;
    } else {
        dm_log_debug("database connected", DM_S("conn", db->name));
    }
    watch(db, EV_READ);
    tell_state(db, true);
    pump(db);
}

/* Advances PQconnectPoll and waits for what it asks. */
static void connect_step(struct dm_db *db)
{
    char line[512];
    switch (PQconnectPoll(db->conn)) {
    case PGRES_POLLING_READING:
        watch(db, EV_READ);
        break;
    case PGRES_POLLING_WRITING:
        watch(db, EV_WRITE);
        break;
    case PGRES_POLLING_OK:
        connected(db);
        break;
    default:
        lost(db, dm_first_line(PQerrorMessage(db->conn), line, sizeof line));
        break;
    }
}

/* Starts libpq on the connection string, with the looked-up addresses
 * when there are some (r NULL: none needed). */
static void connect_pq(struct dm_db *db, const struct dm_resolved *r)
{
    char appname[64];
    snprintf(appname, sizeof appname, "dormantd/%s", db->name);
    /* Later keys override what the expanded connection string says. */
    const char *keys[] = {"fallback_application_name", "dbname", NULL, NULL, NULL, NULL};
    const char *vals[] = {appname, db->conninfo, NULL, NULL, NULL, NULL};
    if (r != NULL) {
        int k = 2;
        keys[k] = "host";
        vals[k++] = r->host;
        keys[k] = "hostaddr";
        vals[k++] = r->hostaddr;
        if (r->port) {
            keys[k] = "port";
            vals[k++] = r->port;
        }
    }

    db->conn = PQconnectStartParams(keys, vals, 1);
    if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
        char line[512];
        lost(db, db->conn ? dm_first_line(PQerrorMessage(db->conn), line, sizeof line)
                          : "out of memory");
        return;
    }
    db->phase = DB_CONNECTING;
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
    evtimer_del(db->timer); /* still pending after a lookup: never assign a pending event */
    evtimer_assign(db->timer, db->base, retry_cb, db);
    evtimer_add(db->timer, &tv);
    connect_step(db);
}

static void resolved_cb(void *arg, const struct dm_resolved *r, const char *err)
{
    struct dm_db *db = arg;
    db->resolving = NULL;
    if (r == NULL) {
        lost(db, err);
        return;
    }
    connect_pq(db, r);
}

/*
 * Connects. libpq would look host names up with getaddrinfo(), blocking
 * the whole loop (signals, the page, the watchdog) for as long as DNS
 * takes; so names are looked up first through libevent's resolver and
 * libpq gets the addresses as hostaddr. The connect timer covers the
 * lookup too.
 */
static void connect_begin(struct dm_db *db)
{
    if (db->closed)
        return;
    db->conninfo_changed = false;
    if (db->dns == NULL)
        db->dns = evdns_base_new(db->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                               EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (db->dns != NULL)
        db->resolving = dm_resolve_start(db->base, db->dns, db->conninfo, resolved_cb, db);
    if (db->resolving == NULL) {
        connect_pq(db, NULL);
        return;
    }
    db->phase = DB_CONNECTING;
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
    evtimer_assign(db->timer, db->base, retry_cb, db);
    evtimer_add(db->timer, &tv);
}

void dm_db_start(struct dm_db *db)
{
    if (db->phase == DB_DOWN && !evtimer_pending(db->timer, NULL))
        connect_begin(db);
}

void dm_db_set_conninfo(struct dm_db *db, const char *conninfo)
{
    if (strcmp(conninfo, db->conninfo) == 0)
        return;
    free(db->conninfo);
    db->conninfo = dm_xstrdup(conninfo);
    db->conninfo_changed = true;
    pump(db);
}

/* Sends the head of the queue when nothing is in flight. */
static void send_head(struct dm_db *db)
{
    struct query *q = db->head;
    int ok;
    char line[512];

    if (q->nparams == 0)
        ok = PQsendQuery(db->conn, q->sql);
    else
        ok = PQsendQueryParams(db->conn, q->sql, q->nparams, NULL, (const char *const *)q->values,
                               NULL, NULL, 0);
    if (!ok) {
        lost(db, dm_first_line(PQerrorMessage(db->conn), line, sizeof line));
        return;
    }
    db->sent = true;
    int f = PQflush(db->conn);
    if (f < 0) {
        lost(db, dm_first_line(PQerrorMessage(db->conn), line, sizeof line));
        return;
    }
    db->flushing = f == 1;
    watch(db, db->flushing ? EV_READ | EV_WRITE : EV_READ);
}

/* Moves the queue forward: sends the next statement when idle, or reconnects
 * when the connection string changed and nothing is pending. */
static void pump(struct dm_db *db)
{
    if (db->phase != DB_UP)
        return;
    if (db->head == NULL && db->conninfo_changed) {
        dm_log_info("database connection string changed, reconnecting", DM_S("conn", db->name));
        watch(db, 0);
        PQfinish(db->conn);
        db->conn = NULL;
        db->phase = DB_DOWN;
        tell_state(db, false);
        connect_begin(db);
        return;
    }
    if (db->head != NULL && !db->sent)
        send_head(db);
}

static void deliver_notifies(struct dm_db *db)
{
    PGnotify *n;
    while (db->conn && (n = PQnotifies(db->conn)) != NULL) {
        if (db->notify_fn)
            db->notify_fn(db->notify_arg, n->relname, n->extra);
        PQfreemem(n);
    }
}

/* Reads whatever results are complete; finishes the head when its last
 * result has arrived. */
static void read_results(struct dm_db *db)
{
    char line[512];
    if (!PQconsumeInput(db->conn)) {
        lost(db, dm_first_line(PQerrorMessage(db->conn), line, sizeof line));
        return;
    }
    deliver_notifies(db);
    while (db->sent && !PQisBusy(db->conn)) {
        PGresult *r = PQgetResult(db->conn);
        if (r == NULL) {
            PGresult *keep = db->keep;
            db->keep = NULL;
            finish_head(db, keep);
            PQclear(keep);
            if (db->phase != DB_UP)
                return;
            pump(db);
            continue;
        }
        /* Keep the first error, else the last result. */
        if (db->keep == NULL || dm_db_ok(db->keep)) {
            PQclear(db->keep);
            db->keep = r;
        } else {
            PQclear(r);
        }
    }
    if (db->phase == DB_UP && !db->sent)
        watch(db, EV_READ);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dm_db *db = arg;
    char line[512];

    if (db->phase == DB_CONNECTING) {
        connect_step(db);
        return;
    }
    if (db->phase != DB_UP)
        return;
    if (db->flushing && (what & EV_WRITE)) {
        int f = PQflush(db->conn);
        if (f < 0) {
            lost(db, dm_first_line(PQerrorMessage(db->conn), line, sizeof line));
            return;
        }
        db->flushing = f == 1;
        watch(db, db->flushing ? EV_READ | EV_WRITE : EV_READ);
    }
    if (what & EV_READ)
        read_results(db);
}

bool dm_db_send(struct dm_db *db, const char *sql, int nparams, const char *const *values,
                dm_db_result_fn fn, void *arg)
{
    if (db->phase != DB_UP)
        return false;
    struct query *q = calloc(1, sizeof *q);
    if (q == NULL)
        abort();
    q->sql = dm_xstrdup(sql);
    q->nparams = nparams;
    if (nparams > 0) {
        q->values = calloc((size_t)nparams, sizeof *q->values);
        if (q->values == NULL)
            abort();
        for (int i = 0; i < nparams; i++)
            q->values[i] = values[i] ? dm_xstrdup(values[i]) : NULL;
    }
    q->fn = fn;
    q->arg = arg;
    if (db->tail)
        db->tail->next = q;
    else
        db->head = q;
    db->tail = q;
    pump(db);
    return true;
}

bool dm_db_withdraw(struct dm_db *db, void *arg)
{
    struct query *prev = NULL;
    for (struct query *q = db->head; q != NULL; prev = q, q = q->next) {
        if (q->arg != arg)
            continue;
        if (q == db->head && db->sent)
            return false; /* in flight */
        if (prev)
            prev->next = q->next;
        else
            db->head = q->next;
        if (db->tail == q)
            db->tail = prev;
        free_query(q);
        pump(db);
        return true;
    }
    return false;
}

void dm_db_close(struct dm_db *db)
{
    if (db == NULL || db->closed)
        return;
    db->closed = true;
    dm_resolve_cancel(db->resolving);
    db->resolving = NULL;
    watch(db, 0);
    evtimer_del(db->timer);
    if (db->keep)
        PQclear(db->keep);
    db->keep = NULL;
    PQfinish(db->conn);
    db->conn = NULL;
    db->phase = DB_DOWN;
    while (db->head != NULL)
        finish_head(db, NULL);
}

void dm_db_free(struct dm_db *db)
{
    if (db == NULL)
        return;
    dm_db_close(db);
    if (db->dns)
        evdns_base_free(db->dns, 1); /* cancelled lookups are called back and freed */
    event_free(db->timer);
    free(db->name);
    free(db->conninfo);
    free(db);
}
