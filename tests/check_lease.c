/*
 * The lease built alone against a real PostgreSQL: the first instance takes
 * it (epoch 1), a second stands by and learns who holds it, the holder's
 * fence renews it; once it expired the second takes it over with the next
 * epoch, and from then on the first one's fence refuses (DL001) so that its
 * transaction commits nothing; a release ends it at once.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "lease.h"
#include "sql.h"
#include "testlib.h"

struct world {
    struct dm_test_module m;  /* database, loop, migrated configuration, connection */
    struct dm_lease_state st; /* the last poll's outcome */
    int answers;              /* polls answered */
    bool paused;              /* what the report says */
};

static void prepare(struct world *w)
{
    char text[1024];
    memset(w, 0, sizeof *w);
    dm_test_module_init(&w->m, "check_lease");
    PQclear(dm_test_exec(w->m.conninfo, "CREATE TABLE subs (id bigint PRIMARY KEY, email text,"
                                        " created_at timestamptz, last_activity_at timestamptz,"
                                        " billing text)"));
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"dm\"; };\n"
             "source = { table = \"subs\"; id = \"id\"; email = \"email\";"
             " billing = { column = \"billing\"; active = \"active\"; suspended = \"off\"; }; };\n"
             "limits = { poll_interval = \"1 second\"; };\n",
             w->m.conninfo);
    dm_test_module_config(&w->m, "lease", text);
    dm_db_start(w->m.env.db);
}

static bool up(void *arg)
{
    return dm_db_up(((struct world *)arg)->m.env.db);
}

static void poll_cb(void *arg, const struct dm_lease_state *st)
{
    struct world *w = arg;
    w->st = *st;
    w->answers++;
}

static bool answered(void *arg)
{
    return ((struct world *)arg)->answers > 0;
}

static void report(void *owner, struct dm_lease_report *r)
{
    r->paused = ((struct world *)owner)->paused;
}

/* One poll of l, waited for. */
static void poll(struct world *w, struct dm_lease *l, bool want)
{
    w->answers = 0;
    ck_assert(dm_lease_poll(l, w->m.env.db, w->m.cfg, &w->m.names, false, want, poll_cb, w));
    ck_assert(dm_test_loop_until(w->m.base, answered, w, 10000));
    ck_assert_msg(w->st.ok, "%s", w->st.error);
}

static void expect(struct world *w, const char *sql, const char *want)
{
    char *v = dm_test_scalar(w->m.conninfo, sql);
    ck_assert_msg(v != NULL && strcmp(v, want) == 0, "%s: %s, want %s", sql, v ? v : "NULL", want);
    free(v);
}

/* Runs l's fence in a transaction of its own; the SQLSTATE it failed with,
 * or "" when it renewed the lease. */
static void fence(struct world *w, const struct dm_lease *l, char state[6])
{
    char *begin = dm_lease_begin(l, w->m.cfg, &w->m.names, true);
    PGconn *conn = PQconnectdb(w->m.conninfo);
    PGresult *r = PQexec(conn, begin);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s", PQresultStatus(r) == PGRES_TUPLES_OK ? "" : s ? s : "?");
    PQclear(r);
    PQclear(PQexec(conn, "ROLLBACK"));
    PQfinish(conn);
    free(begin);
}

static void finish(struct world *w)
{
    dm_test_module_close(&w->m);
    dm_test_module_free(&w->m);
}

START_TEST(one_holder_fenced_takeover)
{
    DM_TEST_REQUIRE_PG();
    struct world w;
    char state[6];
    prepare(&w);
    ck_assert(dm_test_loop_until(w.m.base, up, &w, 10000));
    struct dm_lease *a = dm_lease_new(report, &w), *b = dm_lease_new(NULL, NULL);
    ck_assert_int_eq(dm_lease_ms(w.m.cfg), DM_LEASE_MIN_MS);
    ck_assert_str_ne(dm_lease_id(a), dm_lease_id(b));

    w.paused = true;
    poll(&w, a, true);
    ck_assert(w.st.leader && w.st.taken && dm_lease_leader(a));
    expect(&w, "SELECT epoch FROM dm.lease", "1");
    expect(&w, "SELECT paused FROM dm.instance", "t");

    poll(&w, b, true);
    ck_assert(!w.st.leader && w.st.held && !dm_lease_leader(b));
    ck_assert_str_eq(w.st.holder, dm_lease_id(a));
    ck_assert_int_eq(w.st.pid, (long long)getpid());
    expect(&w, "SELECT count(*) FROM dm.instance", "2");

    w.paused = false;  /* paused beside a live b, a would give the lead up (below) */
    poll(&w, a, true); /* a renewal keeps the epoch */
    ck_assert(w.st.leader && !w.st.taken);
    fence(&w, a, state);
    ck_assert_str_eq(state, "");
    fence(&w, b, state);
    ck_assert_str_eq(state, DM_LEASE_LOST_SQLSTATE);

    /* a stalls past its lease: b takes over with the next epoch, and a's
     * fence refuses from then on. */
    PQclear(dm_test_exec(w.m.conninfo, "UPDATE dm.lease SET expires_at = now()"));
    poll(&w, b, true);
    ck_assert(w.st.leader && w.st.taken);
    expect(&w, "SELECT epoch FROM dm.lease", "2");
    fence(&w, a, state);
    ck_assert_str_eq(state, DM_LEASE_LOST_SQLSTATE);
    poll(&w, a, true);
    ck_assert(!w.st.leader && w.st.held && !dm_lease_leader(a));

    /* A release ends b's lease and its row at once; a takes over. */
    w.answers = 0;
    ck_assert(dm_lease_release(b, w.m.env.db, &w.m.names, NULL, NULL));
    poll(&w, a, true);
    ck_assert(w.st.leader && w.st.taken);
    expect(&w, "SELECT epoch FROM dm.lease", "3");
    expect(&w, "SELECT count(*) FROM dm.instance", "1");

    /* Alone, a paused a keeps the lead; beside a live b (neither paused
     * nor dry-running) it gives it up, and b takes it over. */
    w.paused = true;
    poll(&w, a, true);
    ck_assert(w.st.leader && !w.st.taken);
    poll(&w, b, true);
    ck_assert(!w.st.leader && w.st.held);
    poll(&w, a, true);
    ck_assert(!w.st.leader && !dm_lease_leader(a));
    poll(&w, b, true);
    ck_assert(w.st.leader && w.st.taken);
    expect(&w, "SELECT epoch FROM dm.lease", "4");
    dm_lease_free(a);
    dm_lease_free(b);
    finish(&w);
}
END_TEST

START_TEST(begin_without_fence_for_dry_runs)
{
    struct dm_sql_names names;
    memset(&names, 0, sizeof names);
    names.value[DM_N_S] = (char *)"\"dm\"";
    char *fenced = dm_lease_begin_sql(&names, "0123456789ab", 3, 5000);
    char *dry = dm_lease_begin_sql(&names, NULL, 0, 5000);
    ck_assert_ptr_nonnull(
        strstr(fenced, "\"dm\".lease_fence('0123456789ab', 3, '5000 milliseconds')"));
    ck_assert_ptr_null(strstr(dry, "lease_fence"));
    ck_assert_ptr_nonnull(strstr(dry, "SET LOCAL jit = off"));
    free(fenced);
    free(dry);
}
END_TEST

static Suite *lease_suite(void)
{
    Suite *s = suite_create("lease");
    TCase *tc = tcase_create("lease");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_holder_fenced_takeover);
    tcase_add_test(tc, begin_without_fence_for_dry_runs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(lease_suite());
}
