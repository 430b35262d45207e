/* libcurl's multi-socket interface driven by the libevent loop. */
#include "transfer.h"

#include <event2/event.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

/* One transfer in flight; the easy handle's CURLOPT_PRIVATE points here. */
struct transfer {
    struct transfer *prev, *next;
    CURL *easy;
    dm_transfer_done_fn fn;
    void *arg;
};

/* One socket curl asked us to watch; curl_multi_assign() points here. */
struct sock {
    struct sock *prev, *next;
    curl_socket_t fd;
    struct event *ev; /* persistent, for what curl wants (read, write or both) */
};

struct dm_transfers {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;  /* curl's one timeout */
    struct transfer *all; /* every transfer in flight */
    struct sock *socks;   /* every socket watched */
    int running;          /* transfers in flight */
};

/* Hands every finished transfer back to its owner. */
static void drain(struct dm_transfers *t)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(t->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        struct transfer *tr = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&tr);
        curl_multi_remove_handle(t->multi, easy);
        if (tr->prev)
            tr->prev->next = tr->next;
        else
            t->all = tr->next;
        if (tr->next)
            tr->next->prev = tr->prev;
        t->running--;
        dm_transfer_done_fn fn = tr->fn;
        void *arg = tr->arg;
        free(tr);
        fn(arg, easy, rc);
    }
}

static void action(struct dm_transfers *t, curl_socket_t fd, int mask)
{
    int still;
    CURLMcode mc = curl_multi_socket_action(t->multi, fd, mask, &still);
    if (mc != CURLM_OK)
        dm_log_error("curl multi action failed", DM_S("error", curl_multi_strerror(mc)));
    drain(t);
}

static void socket_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dm_transfers *t = arg;
    int mask =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    action(t, fd, mask);
}

static void timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed or cancelled as curl asks. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct dm_transfers *t = userp;
    if (timeout_ms < 0) {
        evtimer_del(t->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(t->timer, &tv);
    return 0;
}

static void sock_free(struct dm_transfers *t, struct sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        t->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->ev)
        event_free(s->ev);
    free(s);
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket, rebuilt when
 * curl's interest changes, freed when curl is done with the socket. */
static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct dm_transfers *t = userp;
    struct sock *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL)
            sock_free(t, s);
        return 0;
    }
    if (s == NULL) {
        s = dm_xcalloc(1, sizeof *s);
        s->fd = fd;
        s->next = t->socks;
        if (t->socks)
            t->socks->prev = s;
        t->socks = s;
        curl_multi_assign(t->multi, fd, s);
    } else if (s->ev != NULL) {
        event_free(s->ev);
        s->ev = NULL;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    s->ev = event_new(t->base, fd, kind, socket_event_cb, t);
    event_add(s->ev, NULL);
    return 0;
}

struct dm_transfers *dm_transfers_new(struct event_base *base, long max_connections)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct dm_transfers *t = dm_xcalloc(1, sizeof *t);
    t->base = base;
    t->multi = curl_multi_init();
    if (t->multi == NULL)
        abort();
    t->timer = evtimer_new(base, timer_event_cb, t);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t);
    if (max_connections > 0)
        curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, max_connections);
    return t;
}

bool dm_transfers_add(struct dm_transfers *t, CURL *easy, dm_transfer_done_fn fn, void *arg)
{
    struct transfer *tr = dm_xcalloc(1, sizeof *tr);
    tr->easy = easy;
    tr->fn = fn;
    tr->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, tr);
    CURLMcode mc = curl_multi_add_handle(t->multi, easy);
    if (mc != CURLM_OK) {
        dm_log_error("curl refused a transfer", DM_S("error", curl_multi_strerror(mc)));
        free(tr);
        return false;
    }
    tr->next = t->all;
    if (t->all)
        t->all->prev = tr;
    t->all = tr;
    t->running++;
    return true;
}

int dm_transfers_running(const struct dm_transfers *t)
{
    return t->running;
}

void dm_transfers_free(struct dm_transfers *t)
{
    if (t == NULL)
        return;
    while (t->all != NULL) {
        struct transfer *tr = t->all;
        t->all = tr->next;
        curl_multi_remove_handle(t->multi, tr->easy);
        free(tr);
    }
    curl_multi_cleanup(t->multi);
    while (t->socks != NULL)
        sock_free(t, t->socks);
    event_free(t->timer);
    free(t);
    curl_global_cleanup();
}
