/* The answer statements against a real PostgreSQL: every id type, keep and pause, once. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "interval.h"
#include "schema.h"
#include "sql.h"
#include "token.h"

static char *dir;
static char *conninfo;
static struct dm_sql_names names; /* of the configuration prepare() made */

static void setup(void)
{
    dir = dm_test_tmpdir();
    conninfo = dm_test_have_pg() ? dm_test_db_create("check_answer") : NULL;
}

static void teardown(void)
{
    if (conninfo) {
        dm_test_db_drop(conninfo);
        free(conninfo);
    }
    dm_test_rmtree(dir);
    free(dir);
    dm_sql_names_free(&names);
}

/* A source table "subs" keyed by id_type, billing column "plan" with
 * paying/stopped, no locale column; migrated. Returns the configuration. */
static struct dm_config *prepare(const char *id_type, const char *locale_column)
{
    char sql[1024], text[2048], err[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE subs (sid %s PRIMARY KEY, mail text, created_at timestamptz NOT NULL"
             " DEFAULT now(), last_activity_at timestamptz, lang text,"
             " plan text NOT NULL DEFAULT 'paying')",
             id_type);
    PQclear(dm_test_exec(conninfo, sql));
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"dm\"; };\n"
             "source = { table = \"public.subs\"; id = \"sid\"; email = \"mail\";"
             " locale = \"%s\";"
             " billing = { column = \"plan\"; active = \"paying\"; suspended = \"stopped\"; }; };\n"
             "policy = { erase_columns = [ \"mail\" ]; };\n",
             conninfo, locale_column);
    char *path = dm_test_write_file(dir, "dormant.conf", text);
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    free(path);
    ck_assert_msg(cfg != NULL, "%s", err);
    PGconn *conn = PQconnectdb(conninfo);
    FILE *devnull = fopen("/dev/null", "w");
    int rc = dm_schema_migrate(conn, cfg, false, devnull, err, sizeof err);
    fclose(devnull);
    PQfinish(conn);
    ck_assert_msg(rc == 0, "migrate: %s", err);
    ck_assert_msg(dm_sql_names_build(&names, cfg, err, sizeof err), "names: %s", err);
    return cfg;
}

/* Adds a subscriber with a pending, delivered request and a token for it. */
static void add_pending(const char *id, const char *lang, const char *token)
{
    char sql[1024], hash[DM_TOKEN_HASH_HEX_SIZE];
    dm_token_hash_hex(token, hash);
    snprintf(sql, sizeof sql,
             "INSERT INTO subs (sid, mail, lang) VALUES ('%s', 'someone@example.com', %s%s%s);"
             "INSERT INTO dm.account (subscriber_id, state, cycle, requested_at, delivered_at,"
             " deadline) VALUES ('%s', 'pending', 3, now(), now(), now() + interval '9 days');"
             "INSERT INTO dm.token (hash, subscriber_id, cycle) VALUES"
             " (decode('%s', 'hex'), '%s', 3)",
             id, lang ? "'" : "", lang ? lang : "NULL", lang ? "'" : "", id, hash, id);
    PQclear(dm_test_exec(conninfo, sql));
}

static const char *const id_cases[][2] = {
    {"bigint", "9007199254740993"},
    {"integer", "42"},
    {"uuid", "6f1c1d3e-2a35-4f5e-9c55-0b9a3e2f7d11"},
    {"text", "cust-Ω-7"},
};

START_TEST(test_keep_by_id_every_id_type)
{
    DM_TEST_REQUIRE_PG();
    const char *type = id_cases[_i][0], *id = id_cases[_i][1];
    struct dm_config *cfg = prepare(type, "lang");
    char err[512], token[DM_TOKEN_SIZE];
    ck_assert(dm_token_new(token));
    add_pending(id, "fr", token);

    PGconn *conn = PQconnectdb(conninfo);
    enum dm_answer_result r = dm_answer_apply(conn, &names, DM_ANSWER_KEEP, id, "operator:alice",
                                              "phoned us", err, sizeof err);
    ck_assert_msg(r == DM_ANSWER_APPLIED, "%s: %s", type, err);
    char *v = dm_test_scalar(conninfo, "SELECT state || ' ' || (confirmed_at IS NOT NULL)"
                                       " FROM dm.account");
    ck_assert_str_eq(v, "active true");
    free(v);
    v = dm_test_scalar(conninfo, "SELECT kind || ' ' || actor || ' ' || cycle || ' ' ||"
                                 " (detail->>'reason') FROM dm.event");
    ck_assert_str_eq(v, "confirmed operator:alice 3 phoned us");
    free(v);
    v = dm_test_scalar(conninfo, "SELECT payload->'data'->>'subscriber_id' || ' ' ||"
                                 " (payload->'data'->>'locale') FROM dm.outbox"
                                 " WHERE type = 'subscription.confirmed'");
    char want[256];
    snprintf(want, sizeof want, "%s fr", id);
    ck_assert_str_eq(v, want);
    free(v);
    v = dm_test_scalar(conninfo, "SELECT count(*) FROM dm.token");
    ck_assert_str_eq(v, "0");
    free(v);

    /* Once only; and a malformed id is an error, not a silent no-op. */
    r = dm_answer_apply(conn, &names, DM_ANSWER_KEEP, id, "operator:alice", NULL, err, sizeof err);
    ck_assert_int_eq(r, DM_ANSWER_NOT_PENDING);
    if (strcmp(type, "text") != 0) {
        r = dm_answer_apply(conn, &names, DM_ANSWER_KEEP, "not-an-id", "operator:alice", NULL, err,
                            sizeof err);
        ck_assert_int_eq(r, DM_ANSWER_FAILED);
        ck_assert(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    PQfinish(conn);
    dm_config_free(cfg);
}
END_TEST

START_TEST(test_pause_by_token_writes_billing)
{
    DM_TEST_REQUIRE_PG();
    struct dm_config *cfg = prepare("bigint", "");
    char token[DM_TOKEN_SIZE], hash[DM_TOKEN_HASH_HEX_SIZE];
    ck_assert(dm_token_new(token));
    dm_token_hash_hex(token, hash);
    add_pending("7", NULL, token);
    PQclear(dm_test_exec(conninfo, "INSERT INTO subs (sid) VALUES (8)"));

    PGconn *conn = PQconnectdb(conninfo);
    /* The lookup sees the request, with its deadline. */
    char *sql = dm_answer_lookup_sql(&names);
    char within[128];
    dm_interval_sql(&cfg->policy.confirm_within, within, sizeof within);
    const char *p1[] = {hash, within};
    PGresult *res = PQexecParams(conn, sql, 2, NULL, p1, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_eq(PQntuples(res), 1);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "7");
    char *want = dm_test_scalar(conninfo, "SELECT to_char((now() + interval '9 days')"
                                          " AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), want);
    free(want);
    ck_assert(PQgetisnull(res, 0, 3)); /* no locale column */
    PQclear(res);

    char *answer = dm_answer_sql(&names, DM_ANSWER_PAUSE, DM_ANSWER_BY_TOKEN);
    const char *p3[] = {hash, "subscriber", NULL};
    res = PQexecParams(conn, answer, 3, NULL, p3, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    ck_assert_int_eq(PQntuples(res), 1);
    PQclear(res);
    char *v = dm_test_scalar(conninfo, "SELECT string_agg(sid || '=' || plan, ',' ORDER BY sid)"
                                       " FROM subs");
    ck_assert_str_eq(v, "7=stopped,8=paying");
    free(v);
    v = dm_test_scalar(conninfo, "SELECT state || ' ' || (suspended_at IS NOT NULL) FROM"
                                 " dm.account");
    ck_assert_str_eq(v, "suspended true");
    free(v);
    v = dm_test_scalar(conninfo, "SELECT kind || ' ' || detail::text FROM dm.event");
    ck_assert_str_eq(v, "declined {}");
    free(v);
    v = dm_test_scalar(conninfo, "SELECT payload->'data'->>'locale' FROM dm.outbox");
    ck_assert_str_eq(v, "en");
    free(v);

    /* The token is dead: no second answer, no lookup. */
    res = PQexecParams(conn, answer, 3, NULL, p3, NULL, NULL, 0);
    ck_assert_int_eq(PQntuples(res), 0);
    PQclear(res);
    res = PQexecParams(conn, sql, 2, NULL, p1, NULL, NULL, 0);
    ck_assert_int_eq(PQntuples(res), 0);
    PQclear(res);
    free(sql);
    free(answer);
    PQfinish(conn);
    dm_config_free(cfg);
}
END_TEST

static Suite *answer_suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("statements");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_keep_by_id_every_id_type, 0,
                        (int)(sizeof id_cases / sizeof id_cases[0]));
    tcase_add_test(tc, test_pause_by_token_writes_billing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(answer_suite());
}
