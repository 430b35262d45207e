/*
 * The SQL as dormant sends it: every statement rendered for a sample
 * configuration and compared with tests/golden/, so that a change to the
 * SQL shows up in a diff as real SQL; and no statement left in the C sources of lib/.
 *
 * After changing a file of lib/sql on purpose, regenerate the renders with
 *
 *   scripts/golden     (DM_GOLDEN_UPDATE=1 build/check_sql)
 *
 * and commit tests/golden with the change.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "answer.h"
#include "clock.h"
#include "config.h"
#include "lease.h"
#include "lifecycle.h"
#include "quote.h"
#include "sql.h"
#include "strbuf.h"
#include "testlib.h"

#define GOLDEN DM_SOURCE_DIR "/tests/golden"

/* The sample: a schema-qualified source table, a schema name that needs
 * quoting, every optional rule on. */
static const char sample[] =
    "database = { conninfo = \"dbname=none\"; schema = \"Dm_x\"; };\n"
    "source = { table = \"public.subscribers\"; id = \"id\"; email = \"email\";\n"
    "  created_at = \"created_at\"; last_activity_at = \"last_activity_at\";\n"
    "  locale = \"locale\"; eligible = \"s.plan <> 'staff'\";\n"
    "  billing = { column = \"billing_status\"; active = \"active\"; suspended = \"suspended\"; };"
    " };\n"
    "policy = { confirm_within = \"10 days\"; erase_after = \"1 year\";\n"
    "  erase_columns = [\"email\", \"name\"]; never_active_after = \"90 days\";\n"
    "  reminders = [\"3 days\", \"1 day\"]; };\n"
    "limits = { max_backlog_fraction = 0.1; };\n"
    "http = { listen = \"127.0.0.1:1\"; public_url = \"https://a.example/d\"; };\n";

/* sample with its first "from" replaced by "to"; newly allocated. */
static char *sample_with(const char *from, const char *to)
{
    const char *at = strstr(sample, from);
    ck_assert_ptr_nonnull(at);
    struct dm_strbuf b = {0};
    dm_strbuf_add(&b, sample, (size_t)(at - sample));
    dm_strbuf_str(&b, to);
    dm_strbuf_str(&b, at + strlen(from));
    return b.s;
}

static struct dm_config *load(const char *dir, const char *text)
{
    char err[512];
    char *path = dm_test_write_file(dir, "dormant.conf", text);
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    ck_assert_msg(cfg != NULL, "config: %s", err);
    free(path);
    return cfg;
}

/* The renders made this run, by golden file name. */
struct render {
    char *name; /* "lifecycle/run_suspend" */
    char *text;
};
static struct render renders[512];
static size_t nrenders;

/* Records sql under name, headed by what its parameters are. */
static void add(const char *name, const char *sql, const char *const *params, int nparams)
{
    ck_assert_uint_lt(nrenders, sizeof renders / sizeof renders[0]);
    struct dm_strbuf b = {0};
    dm_strbuf_str(&b, "-- Rendered by tests/check_sql.c for its sample configuration. $n as\n"
                      "-- sent for lifecycle/ and answer/; elsewhere numbered by first use\n"
                      "-- (the module binds its values by name).\n");
    for (int i = 0; i < nparams; i++)
        dm_strbuf_printf(&b, "-- $%d = %s\n", i + 1, params[i]);
    dm_strbuf_printf(&b, "%s\n", sql);
    renders[nrenders].name = strdup(name);
    renders[nrenders].text = b.s;
    nrenders++;
}

static void add_stmt(const char *name, const struct dm_stmt *st, const char *const *names)
{
    const char *params[DM_SQL_MAX_PARAMS];
    for (int i = 0; i < st->nparams; i++)
        params[i] = names[st->params[i]];
    add(name, st->sql, params, st->nparams);
}

/* The $(name)s of a text, in order of first appearance, NULL-terminated. */
static void params_of(const char *text, char names[][32], const char **list)
{
    int n = 0;
    for (const char *p = strstr(text, "$("); p != NULL; p = strstr(p + 2, "$(")) {
        const char *end = strchr(p, ')');
        ck_assert_ptr_nonnull(end);
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 2), p + 2);
        bool seen = false;
        for (int i = 0; i < n; i++)
            seen = seen || strcmp(list[i], name) == 0;
        if (!seen) {
            ck_assert_int_lt(n, DM_SQL_MAX_PARAMS);
            snprintf(names[n], 32, "%s", name);
            list[n] = names[n];
            n++;
        }
    }
    list[n] = NULL;
}

static void render_all(const char *dir)
{
    struct dm_config *cfg = load(dir, sample);
    struct dm_sql_names names;
    char err[512], name[128];
    ck_assert_msg(dm_sql_names_build(&names, cfg, err, sizeof err), "%s", err);
    dm_sql_names_set_id_type(&names, "bigint");

    /* The pass's statements, composed. */
    struct dm_lifecycle lc;
    ck_assert_msg(dm_lifecycle_build(cfg, &names, &lc, err, sizeof err), "%s", err);
    for (int s = 0; s < DM_STEP_COUNT; s++) {
        const struct {
            const char *kind;
            const struct dm_stmt *st;
        } kinds[] = {{"run", &lc.run[s]}, {"preview", &lc.preview[s]}, {"count", &lc.count[s]}};
        for (size_t k = 0; k < 3; k++) {
            if (kinds[k].st->sql == NULL)
                continue;
            snprintf(name, sizeof name, "lifecycle/%s_%s", kinds[k].kind, dm_step_names[s]);
            add_stmt(name, kinds[k].st, dm_param_names);
        }
    }
    add_stmt("lifecycle/guards", &lc.guards, dm_param_names);
    add_stmt("lifecycle/eligible", &lc.eligible, dm_param_names);
    add_stmt("lifecycle/setup", &lc.setup, dm_param_names);
    dm_lifecycle_free(&lc);

    /* With the backlog guard off, the guards only ask whether anyone waits. */
    char *off = sample_with("max_backlog_fraction = 0.1", "max_backlog_fraction = 1.0");
    struct dm_config *cfg_off = load(dir, off);
    ck_assert_msg(dm_lifecycle_build(cfg_off, &names, &lc, err, sizeof err), "%s", err);
    add_stmt("lifecycle/guards_backlog_off", &lc.guards, dm_param_names);
    dm_lifecycle_free(&lc);
    dm_config_free(cfg_off);
    free(off);

    /* One clock: the statements that read source times, for a Rails-style
     * timestamp last_activity_at and a date created_at in a named zone. */
    char *zoned =
        sample_with("locale = \"locale\";", "locale = \"locale\"; timezone = \"Europe/Paris\";");
    struct dm_config *cfg_zoned = load(dir, zoned);
    struct dm_sql_names zn;
    ck_assert_msg(dm_sql_names_build(&zn, cfg_zoned, err, sizeof err), "%s", err);
    dm_sql_names_set_id_type(&zn, "bigint");
    const struct dm_clock clock = {DM_TIME_LOCAL, DM_TIME_DATE};
    dm_sql_names_set_clock(&zn, cfg_zoned, &clock);
    ck_assert_msg(dm_lifecycle_build(cfg_zoned, &zn, &lc, err, sizeof err), "%s", err);
    const enum dm_step zoned_steps[] = {DM_STEP_REQUEST_INACTIVE, DM_STEP_REQUEST_NEVER,
                                        DM_STEP_RESUME, DM_STEP_SUSPEND};
    for (size_t i = 0; i < sizeof zoned_steps / sizeof zoned_steps[0]; i++) {
        snprintf(name, sizeof name, "lifecycle/clock_local_date_run_%s",
                 dm_step_names[zoned_steps[i]]);
        add_stmt(name, &lc.run[zoned_steps[i]], dm_param_names);
    }
    add_stmt("lifecycle/clock_local_date_guards", &lc.guards, dm_param_names);
    dm_lifecycle_free(&lc);
    dm_sql_names_free(&zn);
    dm_config_free(cfg_zoned);
    free(zoned);

    /* The answers, composed. */
    static const char *const answer_params[] = {"key", "actor", "reason"};
    static const char *const lookup_params[] = {"key", "confirm"};
    const char *kinds[] = {"keep", "pause"}, *keys[] = {"by_token", "by_id"};
    for (int k = 0; k < 2; k++)
        for (int y = 0; y < 2; y++) {
            char *sql = dm_answer_sql(&names, k == 0 ? DM_ANSWER_KEEP : DM_ANSWER_PAUSE,
                                      y == 0 ? DM_ANSWER_BY_TOKEN : DM_ANSWER_BY_ID);
            snprintf(name, sizeof name, "answer/%s_%s", kinds[k], keys[y]);
            add(name, sql, answer_params, 3);
            free(sql);
        }
    char *lookup = dm_answer_lookup_sql(&names);
    add("answer/lookup", lookup, lookup_params, 2);
    free(lookup);

    /* A pass transaction's opening, fenced and for a dry run (lib/lease.h). */
    char *begin = dm_lease_begin_sql(&names, "0123456789ab", 7, 5000);
    add("lease/begin_fenced", begin, NULL, 0);
    free(begin);
    begin = dm_lease_begin_sql(&names, NULL, 0, 5000);
    add("lease/begin_dry_run", begin, NULL, 0);
    free(begin);

    /* Every other file is one statement of its own ({TYPE}: a column type
     * migrate reads from the database; the others name a partitioned source
     * table's indexes, schema/index_*.sql; {ERASE_WIPE}: what ctl/forget
     * shares with the erasure step, composed as lib/ctl_forget.c does;
     * {HELD_BY_FEED}: what status and preview share, composed as
     * dm_ctl_query does). */
    const struct dm_sql_slot slots[] = {
        {"TYPE", "text"},
        {"IDXNAME", "\"dm_la\""},
        {"KEY", "(\"la\")"},
        {"PNAME", "\"dm_la_p1\""},
        {"PART", "\"public\".\"subs_0\""},
        {"SCHEMA", "\"public\""},
        {"PSCHEMA", "\"public\""},
        {"ERASE_WIPE", dm_sql(DM_SQL_LIFECYCLE_ERASE_WIPE)},
        {"HELD_BY_FEED", dm_sql(DM_SQL_CTL_HELD_BY_FEED)},
    };
    for (int f = 0; f < DM_SQL_FILE_COUNT; f++) {
        const char *file = dm_sql_file_names[f];
        if (strncmp(file, "lifecycle/", 10) == 0 || strncmp(file, "answer/", 7) == 0 ||
            strcmp(file, "lease/begin") == 0 || strcmp(file, "lease/fence") == 0)
            continue;
        char pnames[DM_SQL_MAX_PARAMS][32];
        const char *list[DM_SQL_MAX_PARAMS + 1];
        char *tmpl = dm_sql_compose(dm_sql(f), slots, sizeof slots / sizeof slots[0]);
        params_of(tmpl, pnames, list);
        struct dm_stmt st;
        dm_sql_render(&st, tmpl, &names, list);
        add_stmt(file, &st, list);
        dm_stmt_free(&st);
        free(tmpl);
    }
    dm_sql_names_free(&names);
    dm_config_free(cfg);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    struct dm_strbuf b = {0};
    char buf[4096];
    size_t n;
    dm_strbuf_str(&b, "");
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        dm_strbuf_add(&b, buf, n);
    fclose(f);
    return b.s;
}

/* Golden files on disk that no render produced (a statement removed or renamed). */
static void check_stale(const char *sub, bool update)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", GOLDEN, sub);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        char name[300];
        snprintf(name, sizeof name, "%s/%.*s", sub, (int)(len - 4), e->d_name);
        bool known = false;
        for (size_t i = 0; i < nrenders && !known; i++)
            known = strcmp(renders[i].name, name) == 0;
        if (known)
            continue;
        snprintf(path, sizeof path, "%s/%s.sql", GOLDEN, name);
        if (update)
            remove(path);
        else
            ck_abort_msg("%s: no statement renders it any more (DM_GOLDEN_UPDATE=1 removes it)",
                         path);
    }
    closedir(d);
}

START_TEST(every_statement_matches_its_golden_render)
{
    char *dir = dm_test_tmpdir();
    bool update = getenv("DM_GOLDEN_UPDATE") != NULL && getenv("DM_GOLDEN_UPDATE")[0] == '1';
    nrenders = 0;
    render_all(dir);
    ck_assert_uint_gt(nrenders, 40);
    int differ = 0;
    for (size_t i = 0; i < nrenders; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s.sql", GOLDEN, renders[i].name);
        char *have = slurp(path);
        if (have != NULL && strcmp(have, renders[i].text) == 0) {
            free(have);
            continue;
        }
        free(have);
        if (update) {
            char sub[600];
            snprintf(sub, sizeof sub, "%s", path);
            *strrchr(sub, '/') = '\0';
            mkdir(GOLDEN, 0777);
            mkdir(sub, 0777);
            FILE *f = fopen(path, "w");
            ck_assert_msg(f != NULL, "cannot write %s", path);
            fputs(renders[i].text, f);
            fclose(f);
            printf("updated %s\n", path);
        } else {
            fprintf(stderr, "differs from its golden render: %s\n", path);
            differ++;
        }
    }
    const char *subs[] = {"answer",     "ctl",    "http", "lease",  "lifecycle",
                          "migrations", "outbox", "pass", "schema", "tx"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        check_stale(subs[i], update);
    ck_assert_msg(differ == 0,
                  "%d statements differ from tests/golden (after a deliberate change: "
                  "DM_GOLDEN_UPDATE=1 build/check_sql, then commit tests/golden)",
                  differ);
    for (size_t i = 0; i < nrenders; i++) {
        free(renders[i].name);
        free(renders[i].text);
    }
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A statement keyword at the start of a C string literal's text. */
static const char *starts_statement(const char *lit)
{
    static const char *const words[] = {
        "SELECT", "INSERT",  "UPDATE",   "DELETE", "WITH",   "CREATE", "ALTER",   "DROP",
        "BEGIN",  "COMMIT",  "ROLLBACK", "SET",    "LISTEN", "NOTIFY", "EXPLAIN", "TRUNCATE",
        "GRANT",  "COMMENT", "VALUES",   "COPY",   "LOCK",   NULL};
    while (*lit == ' ' || *lit == '\t')
        lit++;
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(lit, words[i], n) == 0 && !isalnum((unsigned char)lit[n]) && lit[n] != '_')
            return words[i];
    }
    return NULL;
}

START_TEST(no_statement_in_c_literals)
{
    char libdir[600];
    snprintf(libdir, sizeof libdir, "%s/lib", DM_SOURCE_DIR);
    DIR *d = opendir(libdir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int found = 0, files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 3 ||
            (strcmp(e->d_name + len - 2, ".c") != 0 && strcmp(e->d_name + len - 2, ".h") != 0))
            continue;
        char path[900];
        snprintf(path, sizeof path, "%s/%s", libdir, e->d_name);
        char *src = slurp(path);
        ck_assert_ptr_nonnull(src);
        files++;
        int line = 1;
        for (const char *p = src; *p; p++) {
            if (*p == '\n') {
                line++;
            } else if (p[0] == '/' && p[1] == '*') { /* comment */
                for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                    line += *p == '\n';
                if (*p)
                    p++;
            } else if (p[0] == '/' && p[1] == '/') {
                while (p[1] && p[1] != '\n')
                    p++;
            } else if (*p == '\'') { /* character constant */
                for (p++; *p && *p != '\''; p++)
                    if (*p == '\\' && p[1])
                        p++;
            } else if (*p == '"') {
                const char *word = starts_statement(p + 1);
                if (word != NULL) {
                    fprintf(stderr, "%s:%d: a string literal begins with %s\n", path, line, word);
                    found++;
                }
                for (p++; *p && *p != '"'; p++)
                    if (*p == '\\' && p[1])
                        p++;
            }
            if (*p == '\0')
                break;
        }
        free(src);
    }
    closedir(d);
    ck_assert_int_gt(files, 20);
    ck_assert_msg(found == 0, "%d C string literals in lib/ begin a statement: put it in lib/sql",
                  found);
}
END_TEST

START_TEST(quoting_follows_postgresql)
{
    char err[256];
    char *q = dm_quote_ident("Mixed \"Case\".x", err, sizeof err);
    ck_assert_str_eq(q, "\"Mixed \"\"Case\"\".x\""); /* a dot is part of a plain name */
    free(q);
    q = dm_quote_qualified("public.subscribers", err, sizeof err);
    ck_assert_str_eq(q, "\"public\".\"subscribers\"");
    free(q);
    q = dm_quote_qualified("subscribers", err, sizeof err);
    ck_assert_str_eq(q, "\"subscribers\"");
    free(q);
    char longest[DM_IDENT_MAX + 2];
    memset(longest, 'a', DM_IDENT_MAX);
    longest[DM_IDENT_MAX] = '\0';
    q = dm_quote_ident(longest, err, sizeof err);
    ck_assert_ptr_nonnull(q); /* 63 bytes: kept whole */
    free(q);
    longest[DM_IDENT_MAX] = 'b';
    longest[DM_IDENT_MAX + 1] = '\0';
    ck_assert_ptr_null(dm_quote_ident(longest, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    ck_assert_ptr_null(dm_quote_ident("", err, sizeof err));
    char qualified[200];
    snprintf(qualified, sizeof qualified, "public.%s", longest);
    ck_assert_ptr_null(dm_quote_qualified(qualified, err, sizeof err));
    q = dm_quote_literal("it's a\\b");
    ck_assert_str_eq(q, "E'it''s a\\\\b'");
    free(q);
}
END_TEST

START_TEST(names_too_long_are_refused)
{
    char *dir = dm_test_tmpdir();
    char *text = sample_with("email = \"email\"", "email = \"an_email_column_whose_name_is_"
                                                  "longer_than_the_sixty_three_bytes_kept\"");
    struct dm_config *cfg = load(dir, text);
    struct dm_sql_names names;
    char err[512];
    ck_assert(!dm_sql_names_build(&names, cfg, err, sizeof err));
    ck_assert_msg(strstr(err, "source.email") && strstr(err, "too long"), "%s", err);
    dm_config_free(cfg);
    free(text);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("statements");
    tcase_add_test(tc, every_statement_matches_its_golden_render);
    tcase_add_test(tc, no_statement_in_c_literals);
    tcase_add_test(tc, quoting_follows_postgresql);
    tcase_add_test(tc, names_too_long_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(sql_suite());
}
