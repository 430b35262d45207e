/* Shared helpers for the Check suites: scratch databases, files, runner. */
#include "testlib.h"

#include <event2/event.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "env.h"
#include "schema.h"

bool dm_test_have_pg(void)
{
    const char *host = getenv("PGHOST");

    return host != NULL && host[0] != '\0';
}

void dm_test_skip_notice(const char *test)
{
    fprintf(stderr, "%s: skipped: PGHOST is not set (run through scripts/test)\n", test);
}

/* Abort the current test unless p is non-NULL (an allocation result). */
static void *dm_test_check_alloc(void *p)
{
    if (p == NULL)
        ck_abort_msg("out of memory");
    return p;
}

/* Notices ("database does not exist, skipping") are noise in test output. */
static void dm_test_quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Append key='value' to buf with libpq's conninfo quoting. */
static void dm_test_conninfo_add(char *buf, size_t size, const char *key, const char *value)
{
    size_t len = strlen(buf);

    snprintf(buf + len, size - len, "%s%s='", len ? " " : "", key);
    len = strlen(buf);
    for (const char *c = value; *c != '\0' && len + 3 < size; c++) {
        if (*c == '\'' || *c == '\\')
            buf[len++] = '\\';
        buf[len++] = *c;
    }
    buf[len] = '\0';
    snprintf(buf + len, size - len, "'");
}

/* Build the conninfo of database dbname on the test server into buf. */
static void dm_test_conninfo(char *buf, size_t size, const char *dbname)
{
    const char *host = getenv("PGHOST");
    const char *port = getenv("PGPORT");
    const char *user = getenv("PGUSER");

    buf[0] = '\0';
    if (host != NULL && host[0] != '\0')
        dm_test_conninfo_add(buf, size, "host", host);
    if (port != NULL && port[0] != '\0')
        dm_test_conninfo_add(buf, size, "port", port);
    dm_test_conninfo_add(buf, size, "user", user != NULL && user[0] != '\0' ? user : "postgres");
    dm_test_conninfo_add(buf, size, "dbname", dbname);
}

/* Open a blocking connection or abort the test with libpq's message. */
static PGconn *dm_test_connect(const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo);

    if (conn == NULL)
        ck_abort_msg("out of memory connecting to %s", conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];

        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
        PQfinish(conn);
        ck_abort_msg("cannot connect to %s: %s", conninfo, msg);
    }
    PQsetNoticeProcessor(conn, dm_test_quiet_notices, NULL);
    return conn;
}

/* Run sql on the maintenance database "postgres" of the test server. */
static void dm_test_admin(const char *sql)
{
    char conninfo[1024];

    dm_test_conninfo(conninfo, sizeof(conninfo), "postgres");
    PQclear(dm_test_exec(conninfo, sql));
}

char *dm_test_db_create(const char *prefix)
{
    static unsigned counter;
    struct timespec now;
    char name[64], sql[128], conninfo[1024];
    size_t len = 0;

    if (!dm_test_have_pg())
        ck_abort_msg("dm_test_db_create: PGHOST is not set");
    /* Identifiers: lower-case letters, digits and underscores only, so the
     * name never needs quoting; 63 bytes at most. */
    for (const char *c = prefix; *c != '\0' && len < 30; c++) {
        char ch = *c;

        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
            ch = '_';
        name[len++] = ch;
    }
    name[len] = '\0';
    /* Check forks a process per test, so a static counter alone repeats; the
     * pid and the clock make the name unique across forks and runs. */
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(name + len, sizeof(name) - len, "_%ld_%u_%lx", (long)getpid(), counter++,
             (unsigned long)(now.tv_nsec ^ now.tv_sec) & 0xfffffUL);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    dm_test_admin(sql);
    dm_test_conninfo(conninfo, sizeof(conninfo), name);
    return dm_test_check_alloc(strdup(conninfo));
}

void dm_test_db_drop(const char *conninfo)
{
    PQconninfoOption *opts;
    char *errmsg = NULL;
    const char *dbname = NULL;

    if (conninfo == NULL)
        return;
    opts = PQconninfoParse(conninfo, &errmsg);
    if (opts == NULL) {
        ck_abort_msg("bad conninfo %s: %s", conninfo, errmsg ? errmsg : "out of memory");
        return;
    }
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "dbname") == 0)
            dbname = o->val;
    if (dbname != NULL && strcmp(dbname, "postgres") != 0) {
        char sql[256];
        size_t len;

        /* Quote the name as an identifier: double any double quote. */
        len = (size_t)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"");
        for (const char *c = dbname; *c != '\0' && len + 24 < sizeof(sql); c++) {
            if (*c == '"')
                sql[len++] = '"';
            sql[len++] = *c;
        }
        snprintf(sql + len, sizeof(sql) - len, "\" WITH (FORCE)");
        dm_test_admin(sql);
    }
    PQconninfoFree(opts);
}

PGresult *dm_test_exec(const char *conninfo, const char *sql)
{
    PGconn *conn = dm_test_connect(conninfo);
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[1024];

        snprintf(msg, sizeof(msg), "%s",
                 res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        ck_abort_msg("SQL failed: %s\n  statement: %s", msg, sql);
    }
    PQfinish(conn);
    return res;
}

char *dm_test_scalar(const char *conninfo, const char *sql)
{
    PGresult *res = dm_test_exec(conninfo, sql);
    char *value = NULL;

    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        value = dm_test_check_alloc(strdup(PQgetvalue(res, 0, 0)));
    PQclear(res);
    return value;
}

char *dm_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if (asprintf(&path, "%s/dormant-test.XXXXXX", base) < 0)
        ck_abort_msg("out of memory");
    if (mkdtemp(path) == NULL)
        ck_abort_msg("mkdtemp %s: %s", path, strerror(errno));
    return path;
}

char *dm_test_write_file(const char *dir, const char *name, const char *content)
{
    char *path;
    FILE *f;
    size_t len = strlen(content);

    if (asprintf(&path, "%s/%s", dir, name) < 0)
        ck_abort_msg("out of memory");
    f = fopen(path, "w");
    if (f == NULL)
        ck_abort_msg("cannot create %s: %s", path, strerror(errno));
    if (fwrite(content, 1, len, f) != len || fclose(f) != 0)
        ck_abort_msg("cannot write %s: %s", path, strerror(errno));
    return path;
}

/* nftw callback: remove one entry, children before their directory. */
static int dm_test_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

void dm_test_rmtree(const char *dir)
{
    if (dir != NULL)
        nftw(dir, dm_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int dm_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static bool fake_paused(void *owner)
{
    return ((struct dm_test_fake *)owner)->paused;
}

static bool fake_dry_run(void *owner)
{
    return ((struct dm_test_fake *)owner)->dry_run;
}

static void fake_db_paused(void *owner, bool paused)
{
    struct dm_test_fake *f = owner;
    f->db_paused = paused;
    f->db_paused_calls++;
}

static void fake_pass_finished(void *owner, bool ok, const char *summary)
{
    struct dm_test_fake *f = owner;
    f->finished++;
    f->finished_ok = ok;
    snprintf(f->summary, sizeof f->summary, "%s", summary);
}

static void fake_outbox_drained(void *owner)
{
    ((struct dm_test_fake *)owner)->drained++;
}

static void fake_fatal(void *owner, int exit_code)
{
    ((struct dm_test_fake *)owner)->fatal = exit_code;
}

void dm_test_hooks(struct dm_test_fake *f, struct dm_hooks *hooks)
{
    f->fatal = -1;
    *hooks = (struct dm_hooks){
        .owner = f,
        .paused = fake_paused,
        .dry_run = fake_dry_run,
        .db_paused = fake_db_paused,
        .pass_finished = fake_pass_finished,
        .outbox_drained = fake_outbox_drained,
        .fatal = fake_fatal,
    };
}

struct loop_watch {
    struct event_base *base;
    bool (*cond)(void *arg);
    void *arg;
    bool met;
    int left; /* looks before giving up */
};

static void loop_check(evutil_socket_t fd, short what, void *arg)
{
    struct loop_watch *w = arg;
    if (w->cond(w->arg)) {
        w->met = true;
        event_base_loopbreak(w->base);
    } else if (--w->left <= 0) {
        event_base_loopbreak(w->base);
    }
}

bool dm_test_loop_until(struct event_base *base, bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    struct loop_watch w = {base, cond, arg, false, timeout_ms / 50 + 1};
    struct event *tick = event_new(base, -1, EV_PERSIST, loop_check, &w);
    struct timeval every = {0, 50000};
    event_add(tick, &every);
    event_base_dispatch(base);
    event_free(tick);
    return w.met;
}

void dm_test_module_init(struct dm_test_module *m, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->dir = dm_test_tmpdir();
    m->conninfo = dm_test_db_create(prefix);
    m->base = event_base_new();
    ck_assert_ptr_nonnull(m->base);
}

void dm_test_module_config(struct dm_test_module *m, const char *name, const char *text)
{
    char err[1024];
    char *path = dm_test_write_file(m->dir, "dormant.conf", text);
    m->cfg = dm_config_load(path, err, sizeof err);
    free(path);
    ck_assert_msg(m->cfg != NULL, "config: %s", err);
    PGconn *conn = PQconnectdb(m->conninfo);
    FILE *devnull = fopen("/dev/null", "w");
    int rc = dm_schema_migrate(conn, m->cfg, false, devnull, err, sizeof err);
    fclose(devnull);
    PQfinish(conn);
    ck_assert_msg(rc == 0, "migrate: %s", err);
    ck_assert_msg(dm_sql_names_build(&m->names, m->cfg, err, sizeof err), "names: %s", err);
    m->env = (struct dm_env){
        .base = m->base,
        .db = dm_db_new(m->base, name, m->conninfo),
        .cfg = m->cfg,
        .names = &m->names,
        .metrics = &m->metrics,
    };
    dm_test_hooks(&m->fake, &m->env.hooks);
}

void dm_test_module_close(struct dm_test_module *m)
{
    if (m->env.db)
        dm_db_close(m->env.db);
}

void dm_test_module_free(struct dm_test_module *m)
{
    dm_db_free(m->env.db);
    event_base_free(m->base);
    dm_sql_names_free(&m->names);
    dm_config_free(m->cfg);
    dm_test_db_drop(m->conninfo);
    free(m->conninfo);
    dm_test_rmtree(m->dir);
    free(m->dir);
}
