/* Shared helpers for the Check suites: scratch databases, files, runner. */
#ifndef DM_TESTLIB_H
#define DM_TESTLIB_H

#include <stdbool.h>

#include <check.h>
#include <libpq-fe.h>

#include "env.h"
#include "metrics.h"
#include "sql.h"

/*
 * The integration suites run against the throwaway PostgreSQL that
 * scripts/test starts (PGHOST, PGPORT, PGUSER in the environment). Every test
 * makes its own database, so suites may run in parallel. Functions that can
 * fail abort the current test with a message (ck_abort_msg) instead of
 * returning an error, so a test body stays a straight line.
 */

/* True when a test server is configured (PGHOST set and not empty). */
bool dm_test_have_pg(void);

/* Skip the rest of the current test, printing why, when no server is set up. */
#define DM_TEST_REQUIRE_PG()                                                                       \
    do {                                                                                           \
        if (!dm_test_have_pg()) {                                                                  \
            dm_test_skip_notice(__func__);                                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Print a one-line "skipped: PGHOST is not set" notice naming the test. */
void dm_test_skip_notice(const char *test);

/* Create a fresh database named after prefix, the pid and a counter; return a
 * malloc'd conninfo "host=... port=... user=postgres dbname=..." for it. */
char *dm_test_db_create(const char *prefix);

/* Drop the database named by conninfo, disconnecting anyone still using it. */
void dm_test_db_drop(const char *conninfo);

/* Run sql (one or more statements) on a new connection and return the last
 * result, which the caller PQclear()s; aborts the test on any error. */
PGresult *dm_test_exec(const char *conninfo, const char *sql);

/* Run sql and return the first column of the first row as a malloc'd string,
 * or NULL when there is no row or the value is NULL; aborts on error. */
char *dm_test_scalar(const char *conninfo, const char *sql);

/* Create a fresh private directory under $TMPDIR (or /tmp); malloc'd path. */
char *dm_test_tmpdir(void);

/* Write content to dir/name (replacing it); return the malloc'd path. */
char *dm_test_write_file(const char *dir, const char *name, const char *content);

/* Remove dir and everything below it; a missing dir is not an error. */
void dm_test_rmtree(const char *dir);

/*
 * Fake hooks for running a module (pass, outbox, http) in a test, without a
 * daemon (lib/env.h): the test sets what the questions answer and reads
 * what the module told. dm_test_hooks() points hooks at f.
 */
struct dm_test_fake {
    bool paused, dry_run; /* the answers */
    bool db_paused;       /* last db_paused told */
    int db_paused_calls;  /* how often */
    int finished;         /* pass_finished calls */
    bool finished_ok;     /* ok of the last one */
    char summary[512];    /* its summary */
    int drained;          /* outbox_drained calls */
    int fatal;            /* exit code of the last fatal call (-1: none) */
};
void dm_test_hooks(struct dm_test_fake *f, struct dm_hooks *hooks);

/* Runs base until cond(arg) holds, looking every 50 ms; false after
 * timeout_ms. */
struct event_base;
bool dm_test_loop_until(struct event_base *base, bool (*cond)(void *arg), void *arg,
                        int timeout_ms);

/*
 * A module (pass, outbox, http) under test, without a daemon: a scratch
 * database and directory, a loop, a migrated configuration, its names, the
 * metrics, fake hooks and the module's connection, all in env.
 *   dm_test_module_init    database, directory, loop
 *   dm_test_module_config  loads text as the configuration, migrates, fills
 *                          env (the connection is made, not started)
 *   dm_test_module_close   closes the connection (before freeing the module)
 *   dm_test_module_free    the rest
 */
struct dm_test_module {
    char *dir, *conninfo;
    struct event_base *base;
    struct dm_config *cfg;
    struct dm_sql_names names;
    struct dm_metrics metrics;
    struct dm_test_fake fake;
    struct dm_env env;
};
void dm_test_module_init(struct dm_test_module *m, const char *prefix);
void dm_test_module_config(struct dm_test_module *m, const char *name, const char *text);
void dm_test_module_close(struct dm_test_module *m);
void dm_test_module_free(struct dm_test_module *m);

/* Run suite s in a fresh runner and return the process exit status. */
int dm_test_run(Suite *s);

#endif
