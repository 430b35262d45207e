/* Unit tests of lib/lifecycle.c: the pass's SQL as built from a configuration,
 * and (with a test PostgreSQL) that every statement plans on each key type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lifecycle.h"
#include "schema.h"
#include "testlib.h"

/* A configuration with the given policy/source lines spliced in. */
static struct dm_config *load(const char *dir, const char *conninfo, const char *policy,
                              const char *eligible)
{
    char text[4096], err[512];
    snprintf(text, sizeof text,
             "database = { conninfo = \"%s\"; schema = \"Dm_x\"; };\n"
             "source = { table = \"public.subscribers\"; id = \"id\"; email = \"email\";\n"
             "  created_at = \"created_at\"; last_activity_at = \"last_activity_at\";\n"
             "  locale = \"locale\"; eligible = \"%s\";\n"
             "  billing = { column = \"billing_status\"; active = \"active\";"
             " suspended = \"suspended\"; }; };\n"
             "policy = { %s };\n"
             "http = { listen = \"127.0.0.1:1\"; public_url = \"https://a.example/d\"; };\n",
             conninfo ? conninfo : "dbname=none", eligible, policy);
    char *path = dm_test_write_file(dir, "dormant.conf", text);
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    ck_assert_msg(cfg != NULL, "config: %s", err);
    free(path);
    return cfg;
}

/* dm_lifecycle_build with cfg's names, quoted for the occasion. */
static bool build(const struct dm_config *cfg, struct dm_lifecycle *lc, char *err, size_t errlen)
{
    struct dm_sql_names names;
    ck_assert_msg(dm_sql_names_build(&names, cfg, err, errlen), "names: %s", err);
    bool ok = dm_lifecycle_build(cfg, &names, lc, err, errlen);
    dm_sql_names_free(&names);
    return ok;
}

/* Highest $n in sql. */
static int max_param(const char *sql)
{
    int max = 0;
    for (const char *p = sql; (p = strchr(p, '$')) != NULL; p++) {
        int n = atoi(p + 1);
        if (n > max)
            max = n;
    }
    return max;
}

static void check_stmt(const struct dm_stmt *st, const char *what)
{
    ck_assert_msg(st->sql != NULL, "%s missing", what);
    ck_assert_msg(strstr(st->sql, "$(") == NULL, "%s: unexpanded parameter", what);
    ck_assert_msg(strstr(st->sql, "{S}") == NULL && strstr(st->sql, "{SRC}") == NULL &&
                      strstr(st->sql, "{LA}") == NULL && strstr(st->sql, "{ID}") == NULL,
                  "%s: unexpanded placeholder", what);
    ck_assert_msg(max_param(st->sql) == st->nparams, "%s: $%d used, %d declared", what,
                  max_param(st->sql), st->nparams);
}

START_TEST(builds_every_statement)
{
    char *dir = dm_test_tmpdir();
    struct dm_config *cfg =
        load(dir, NULL, "confirm_within = \"10 days\"; erase_after = \"1 year\";", "");
    struct dm_lifecycle lc;
    char err[256];
    ck_assert(build(cfg, &lc, err, sizeof err));
    for (int s = 0; s < DM_STEP_COUNT; s++) {
        check_stmt(&lc.run[s], dm_step_names[s]);
        if (s != DM_STEP_RESCHEDULE) {
            check_stmt(&lc.preview[s], dm_step_names[s]);
            check_stmt(&lc.count[s], dm_step_names[s]);
        }
    }
    check_stmt(&lc.guards, "guards");
    check_stmt(&lc.eligible, "eligible");
    check_stmt(&lc.setup, "setup");
    /* Identifiers are quoted, including the awkward schema name. */
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_SUSPEND].sql, "\"public\".\"subscribers\" s"));
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_SUSPEND].sql, "\"Dm_x\".account"));
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_SUSPEND].sql, "s.\"billing_status\" = $"));
    /* Steps that write messages make their tokens in the database. */
    ck_assert(lc.messages[DM_STEP_REQUEST_INACTIVE] && lc.messages[DM_STEP_REMIND]);
    ck_assert(!lc.messages[DM_STEP_RESUME]);
    /* No statement takes a token as a parameter, which a server could log:
     * the writing ones make theirs with gen_random_uuid(). */
    for (int s = 0; s < DM_STEP_COUNT; s++) {
        if (lc.run[s].sql == NULL)
            continue;
        ck_assert_ptr_null(strstr(lc.run[s].sql, "tokens"));
        if (s == DM_STEP_REQUEST_INACTIVE || s == DM_STEP_REMIND)
            ck_assert_ptr_nonnull(strstr(lc.run[s].sql, "gen_random_uuid()"));
    }
    /* The erasure sets the configured columns to NULL. */
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_ERASE].sql, "SET \"email\" = NULL"));
    /* Erasure checks billing under the source row's lock; its preview takes no lock. */
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_ERASE].sql, "FOR UPDATE OF s SKIP LOCKED"));
    ck_assert_ptr_null(strstr(lc.preview[DM_STEP_ERASE].sql, "FOR UPDATE"));
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_ERASE].sql, "s.\"billing_status\" = $"));
    /* The sweep pages over the source's key, paced by sweep_period and poll_interval. */
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_SWEEP].sql, "ORDER BY s.\"id\" LIMIT"));
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_SWEEP].sql, "least($"));
    ck_assert_ptr_null(strstr(lc.count[DM_STEP_SWEEP].sql, "least($"));
    ck_assert_str_eq(lc.values[DM_P_PERIOD], "0 months 1 days 0 microseconds");
    ck_assert(!lc.messages[DM_STEP_SWEEP] && !lc.messages[DM_STEP_WITHDRAW]);
    /* Intervals are values, rendered once, not text in the SQL. */
    ck_assert_str_eq(lc.values[DM_P_CONFIRM], "0 months 10 days 0 microseconds");
    ck_assert_str_eq(lc.values[DM_P_INACTIVE], "24 months 0 days 0 microseconds");
    ck_assert_str_eq(lc.values[DM_P_REMINDERS],
                     "{\"0 months 7 days 0 microseconds\",\"0 months 1 days 0 microseconds\"}");
    ck_assert_ptr_null(strstr(lc.run[DM_STEP_REQUEST_INACTIVE].sql, "24 months"));
    dm_lifecycle_free(&lc);
    dm_config_free(cfg);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(optional_rules_drop_their_steps)
{
    char *dir = dm_test_tmpdir();
    struct dm_config *cfg =
        load(dir, NULL, "never_active_after = \"\"; reminders = []; erase_after = \"\";", "");
    struct dm_lifecycle lc;
    char err[256];
    ck_assert(build(cfg, &lc, err, sizeof err));
    ck_assert_ptr_null(lc.run[DM_STEP_REQUEST_NEVER].sql);
    ck_assert_ptr_null(lc.run[DM_STEP_REMIND].sql);
    ck_assert_ptr_null(lc.run[DM_STEP_ERASE].sql);
    ck_assert_ptr_nonnull(lc.run[DM_STEP_REQUEST_INACTIVE].sql);
    ck_assert(lc.value_null[DM_P_NEVER]);
    /* The guards' backlog counts only the rules in force. */
    ck_assert_ptr_null(strstr(lc.guards.sql, "'never_active'::text AS rule"));
    ck_assert_ptr_nonnull(strstr(lc.guards.sql, "'inactive'::text AS rule"));

    /* A NULL parameter is passed as SQL NULL; the limit per call. */
    const struct dm_stmt *st = &lc.run[DM_STEP_REQUEST_RECHECK];
    const char *values[DM_P_COUNT];
    char limit[16];
    const struct dm_lc_call call = {.limit = 250, .write = true};
    dm_lifecycle_params(&lc, st, &call, limit, sizeof limit, values);
    bool saw_limit = false, saw_never = false;
    for (int i = 0; i < st->nparams; i++) {
        if (st->params[i] == DM_P_LIMIT) {
            ck_assert_str_eq(values[i], "250");
            saw_limit = true;
        } else if (st->params[i] == DM_P_NEVER) {
            ck_assert_ptr_null(values[i]);
            saw_never = true;
        }
    }
    ck_assert(saw_limit && saw_never);
    dm_lifecycle_free(&lc);
    dm_config_free(cfg);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(eligible_predicate_is_embedded)
{
    char *dir = dm_test_tmpdir();
    struct dm_config *cfg = load(dir, NULL, "", "s.plan <> 'free'");
    struct dm_lifecycle lc;
    char err[256];
    ck_assert(build(cfg, &lc, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(lc.run[DM_STEP_REQUEST_INACTIVE].sql, "((s.plan <> 'free'))"));
    ck_assert_ptr_nonnull(strstr(lc.eligible.sql, "((s.plan <> 'free'))"));
    dm_lifecycle_free(&lc);
    dm_config_free(cfg);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Every statement, on a migrated schema over each supported key type, is
 * accepted by PostgreSQL (parsed, typed and planned) via PREPARE. */
static const char *const key_types[] = {"bigint", "integer", "uuid", "text"};

START_TEST(statements_plan_on_every_key_type)
{
    DM_TEST_REQUIRE_PG();
    char *conninfo = dm_test_db_create("lifecycle");
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE public.subscribers (id %s PRIMARY KEY, email text,"
             " created_at timestamptz NOT NULL, last_activity_at timestamptz, locale text,"
             " billing_status text NOT NULL, plan text)",
             key_types[_i]);
    PQclear(dm_test_exec(conninfo, sql));
    char *dir = dm_test_tmpdir();
    struct dm_config *cfg = load(dir, conninfo, "erase_after = \"1 year\";", "s.plan IS NULL");
    char err[512];
    PGconn *conn = dm_schema_connect(cfg, "check_lifecycle", err, sizeof err);
    ck_assert_msg(conn != NULL, "%s", err);
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_int_eq(dm_schema_migrate(conn, cfg, false, devnull, err, sizeof err), 0);
    fclose(devnull);
    struct dm_lifecycle lc;
    ck_assert(build(cfg, &lc, err, sizeof err));
    const struct dm_stmt *all[3 * DM_STEP_COUNT + 3];
    size_t n = 0;
    for (int s = 0; s < DM_STEP_COUNT; s++) {
        all[n++] = &lc.run[s];
        all[n++] = &lc.preview[s];
        all[n++] = &lc.count[s];
    }
    all[n++] = &lc.guards;
    all[n++] = &lc.eligible;
    all[n++] = &lc.setup;
    for (size_t i = 0; i < n; i++) {
        if (all[i]->sql == NULL)
            continue;
        char name[16];
        snprintf(name, sizeof name, "s%zu", i);
        PGresult *r = PQprepare(conn, name, all[i]->sql, 0, NULL);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s, statement %zu: %s\n%s",
                      key_types[_i], i, PQresultErrorMessage(r), all[i]->sql);
        PQclear(r);
    }
    dm_lifecycle_free(&lc);
    PQfinish(conn);
    dm_config_free(cfg);
    dm_test_rmtree(dir);
    free(dir);
    dm_test_db_drop(conninfo);
    free(conninfo);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, builds_every_statement);
    tcase_add_test(tc, optional_rules_drop_their_steps);
    tcase_add_test(tc, eligible_predicate_is_embedded);
    suite_add_tcase(s, tc);
    TCase *db = tcase_create("postgres");
    tcase_add_loop_test(db, statements_plan_on_every_key_type, 0,
                        (int)(sizeof key_types / sizeof key_types[0]));
    suite_add_tcase(s, db);
    return s;
}

int main(void)
{
    return dm_test_run(suite());
}
