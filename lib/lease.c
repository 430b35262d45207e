/* The scanning lease and the instance's report into the database. */
#include "lease.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sql.h"

struct dm_lease {
    dm_lease_report_fn report; /* what else goes into a report; may be NULL */
    void *owner;
    char id[16];     /* 12 hex digits, fresh at each start */
    char host[256];  /* gethostname() */
    char pid[24];    /* getpid() as text */
    char name[300];  /* "host:pid", into control.leader at a takeover */
    long long epoch; /* the epoch held; 0 = none */
    bool leader;     /* the last poll or fence found the lease ours */
    /* One poll in flight at a time per caller: its callback. */
    dm_lease_fn fn;
    void *arg;
    bool want; /* the poll in flight asked to lead */
};

static const char *const poll_params[] = {"id",     "host",     "pid",     "version", "stale",
                                          "paused", "disabled", "dry_run", "epoch",   "lease",
                                          "want",   "name",     NULL};
static const char *const release_params[] = {"id", "epoch", NULL};

struct dm_lease *dm_lease_new(dm_lease_report_fn report, void *owner)
{
    struct dm_lease *l = calloc(1, sizeof *l);
    unsigned char r[6];
    if (l == NULL)
        abort();
    l->report = report;
    l->owner = owner;
    if (RAND_bytes(r, sizeof r) != 1)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(l->id + 2 * i, 3, "%02x", r[i]);
    if (gethostname(l->host, sizeof l->host - 1) != 0 || l->host[0] == '\0')
        snprintf(l->host, sizeof l->host, "unknown");
    snprintf(l->pid, sizeof l->pid, "%ld", (long)getpid());
    snprintf(l->name, sizeof l->name, "%s:%s", l->host, l->pid);
    return l;
}

void dm_lease_free(struct dm_lease *l)
{
    free(l);
}

const char *dm_lease_id(const struct dm_lease *l)
{
    return l->id;
}

const char *dm_lease_name(const struct dm_lease *l)
{
    return l->name;
}

bool dm_lease_leader(const struct dm_lease *l)
{
    return l->leader;
}

void dm_lease_forget(struct dm_lease *l)
{
    l->leader = false;
}

int64_t dm_lease_ms(const struct dm_config *cfg)
{
    int64_t poll = dm_interval_ms(&cfg->limits.poll_interval);
    int64_t ms = 3 * (poll > 0 ? poll : 1000);
    return ms < DM_LEASE_MIN_MS ? DM_LEASE_MIN_MS : ms;
}

static void poll_cb(void *arg, PGresult *res)
{
    struct dm_lease *l = arg;
    struct dm_lease_state st;
    memset(&st, 0, sizeof st);
    if (!dm_db_ok(res) || PQntuples(res) != 1) {
        snprintf(st.error, sizeof st.error, "%s", dm_db_error(res));
        if (l->want)
            l->leader = false;
    } else {
        st.ok = true;
        if (!PQgetisnull(res, 0, 0)) {
            long long e = atoll(PQgetvalue(res, 0, 0));
            st.leader = true;
            st.taken = e != l->epoch;
            l->epoch = e;
        } else if (l->want) {
            l->epoch = 0;
        }
        if (l->want)
            l->leader = st.leader;
        st.paused_db = !PQgetisnull(res, 0, 1) && PQgetvalue(res, 0, 1)[0] == 't';
        snprintf(st.holder, sizeof st.holder, "%s", PQgetvalue(res, 0, 2));
        snprintf(st.host, sizeof st.host, "%s", PQgetvalue(res, 0, 3));
        st.pid = PQgetisnull(res, 0, 4) ? 0 : atoll(PQgetvalue(res, 0, 4));
        snprintf(st.expires, sizeof st.expires, "%s", PQgetvalue(res, 0, 5));
        st.held = !st.leader && PQgetvalue(res, 0, 6)[0] == 't' && strcmp(st.holder, l->id) != 0;
    }
    dm_lease_fn fn = l->fn;
    void *fn_arg = l->arg;
    l->fn = NULL;
    if (fn != NULL)
        fn(fn_arg, &st);
}

bool dm_lease_poll(struct dm_lease *l, struct dm_db *db, const struct dm_config *cfg,
                   const struct dm_sql_names *n, bool dry_run, bool want, dm_lease_fn fn, void *arg)
{
    char epoch[32], lease[64], stale[64];
    int64_t ms = dm_lease_ms(cfg);
    struct dm_lease_report rep = {0};
    if (l->report != NULL)
        l->report(l->owner, &rep);
    snprintf(epoch, sizeof epoch, "%lld", l->epoch);
    snprintf(lease, sizeof lease, "%lld milliseconds", (long long)ms);
    /* Stale once it missed three reports (a report per poll; the lease time). */
    snprintf(stale, sizeof stale, "%lld milliseconds", (long long)ms + 1000);
    const char *disabled = rep.webhook_disabled ? "{webhook}" : "{}";
    const char *vals[] = {l->id,
                          l->host,
                          l->pid,
                          DM_VERSION,
                          stale,
                          rep.paused ? "true" : "false",
                          disabled,
                          dry_run ? "true" : "false",
                          epoch,
                          lease,
                          want ? "true" : "false",
                          l->name};
    struct dm_stmt st;
    const char *bound[DM_SQL_MAX_PARAMS];
    dm_sql_render(&st, dm_sql(DM_SQL_LEASE_POLL), n, poll_params);
    dm_stmt_bind(&st, vals, bound);
    bool sent;
    if (fn != NULL) {
        l->fn = fn;
        l->arg = arg;
        l->want = want;
        sent = dm_db_send(db, st.sql, st.nparams, bound, poll_cb, l);
        if (!sent)
            l->fn = NULL;
    } else {
        sent = dm_db_send(db, st.sql, st.nparams, bound, NULL, NULL);
    }
    dm_stmt_free(&st);
    return sent;
}

bool dm_lease_release(struct dm_lease *l, struct dm_db *db, const struct dm_sql_names *n,
                      dm_db_result_fn fn, void *arg)
{
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%lld", l->epoch);
    const char *vals[] = {l->id, epoch};
    struct dm_stmt st;
    const char *bound[DM_SQL_MAX_PARAMS];
    dm_sql_render(&st, dm_sql(DM_SQL_LEASE_RELEASE), n, release_params);
    dm_stmt_bind(&st, vals, bound);
    bool sent = dm_db_send(db, st.sql, st.nparams, bound, fn, arg);
    dm_stmt_free(&st);
    l->leader = false;
    l->epoch = 0;
    return sent;
}

char *dm_lease_begin_sql(const struct dm_sql_names *n, const char *holder, long long epoch,
                         int64_t lease_ms)
{
    char h[64], e[32], ms[64];
    struct dm_stmt st;
    char *fence = NULL;
    if (holder != NULL) {
        /* Literals: a simple query (several statements) takes no parameters;
         * the id is hex digits, the others numbers. */
        snprintf(h, sizeof h, "'%s'", holder);
        snprintf(e, sizeof e, "%lld", epoch);
        snprintf(ms, sizeof ms, "'%lld milliseconds'", (long long)lease_ms);
        const struct dm_sql_slot fs[] = {{"HOLDER", h}, {"EPOCH", e}, {"LEASE", ms}};
        fence = dm_sql_compose(dm_sql(DM_SQL_LEASE_FENCE), fs, 3);
    }
    const struct dm_sql_slot slots[] = {{"FENCE", fence ? fence : ""}};
    char *tmpl = dm_sql_compose(dm_sql(DM_SQL_LEASE_BEGIN), slots, 1);
    dm_sql_render(&st, tmpl, n, NULL);
    free(tmpl);
    free(fence);
    return st.sql;
}

char *dm_lease_begin(const struct dm_lease *l, const struct dm_config *cfg,
                     const struct dm_sql_names *n, bool fence)
{
    return dm_lease_begin_sql(n, fence ? l->id : NULL, l->epoch, dm_lease_ms(cfg));
}
