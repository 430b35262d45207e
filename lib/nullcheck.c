/* Source rows that source.eligible leaves out only because it is NULL. */
#include "nullcheck.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "sql.h"

/* What the check found: rows left out of the table's rows, counted or
 * estimated, and the columns named (empty: none found). */
struct finding {
    long long rows, of, sampled;
    bool exact;
    char columns[256];
};

static const char *const params[] = {"table", "eligible", "sample", NULL};

static void render(struct dm_stmt *st, const struct dm_config *cfg, const struct dm_sql_names *n,
                   char *sample, size_t len, const char **bound)
{
    snprintf(sample, len, "%d", DM_NULLCHECK_SAMPLE);
    const char *values[] = {n->value[DM_N_SRC], cfg->source.eligible, sample};
    dm_sql_render(st, dm_sql(DM_SQL_SCHEMA_ELIGIBLE_NULLS), n, params);
    dm_stmt_bind(st, values, bound);
}

/* True when the answer r says rows are left out, described in f. */
static bool read_finding(const PGresult *r, struct finding *f)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        return false;
    long long sampled = atoll(PQgetvalue(r, 0, 0)), unknown = atoll(PQgetvalue(r, 0, 1));
    if (unknown <= 0 || sampled <= 0)
        return false;
    f->sampled = sampled;
    f->exact = PQgetvalue(r, 0, 3)[0] == 't';
    f->of = f->exact ? sampled : atoll(PQgetvalue(r, 0, 2));
    f->rows =
        f->exact ? unknown : (long long)((double)unknown * (double)f->of / (double)sampled + 0.5);
    if (f->rows < 1)
        f->rows = 1;
    snprintf(f->columns, sizeof f->columns, "%s", PQgetisnull(r, 0, 4) ? "" : PQgetvalue(r, 0, 4));
    return true;
}

/* The first line of an error, unless it quotes a value that may be an
 * address (invalid input syntax for ...: "ana@example.com"): then only its
 * SQLSTATE. */
static const char *error_text(const PGresult *r, const char *msg, char *buf, size_t len)
{
    size_t n = strcspn(msg, "\n");
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (memchr(msg, '@', n) != NULL)
        snprintf(buf, len, "an error quoting a row's value (SQLSTATE %s)", state ? state : "?");
    else
        snprintf(buf, len, "%.*s", (int)n, msg);
    return buf;
}

#define ADVICE                                                                                     \
    "they are left out as ineligible and never asked; if they should be, write source.eligible "   \
    "with coalesce() or IS DISTINCT FROM"

static void answered(void *arg, PGresult *res)
{
    (void)arg;
    struct finding f;
    if (res == NULL)
        return; /* the connection went away: the next start asks again */
    if (!dm_db_ok(res)) {
        char buf[512];
        dm_log_debug("cannot look for NULLs in source.eligible",
                     DM_S("error", error_text(res, dm_db_error(res), buf, sizeof buf)));
        return;
    }
    if (!read_finding(res, &f))
        return;
    dm_log_warning("source.eligible is NULL (not false) for some source rows: " ADVICE,
                   DM_S("columns", f.columns[0] ? f.columns : "?"), DM_I("rows", f.rows),
                   DM_I("of", f.of), DM_S("counted", f.exact ? "all" : "from a sample"));
}

bool dm_nullcheck_send(struct dm_db *db, const struct dm_config *cfg, const struct dm_sql_names *n)
{
    if (cfg->source.eligible[0] == '\0' || !dm_db_up(db))
        return false;
    struct dm_stmt st;
    const char *bound[DM_SQL_MAX_PARAMS];
    char sample[16];
    render(&st, cfg, n, sample, sizeof sample, bound);
    bool sent = dm_db_send(db, st.sql, st.nparams, bound, answered, NULL);
    dm_stmt_free(&st);
    return sent;
}

void dm_nullcheck_print(const struct dm_config *cfg, FILE *out)
{
    if (cfg->source.eligible[0] == '\0')
        return;
    char err[512];
    struct dm_sql_names n;
    if (!dm_sql_names_build(&n, cfg, err, sizeof err))
        return; /* dm_config_load() checked the names already */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"5", "dormantd --check-config", cfg->database.conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    PGresult *r = NULL;
    const char *why = NULL;
    struct finding f;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        why = conn ? PQerrorMessage(conn) : "out of memory";
    } else {
        struct dm_stmt st;
        const char *bound[DM_SQL_MAX_PARAMS];
        char sample[16];
        render(&st, cfg, &n, sample, sizeof sample, bound);
        r = PQexecParams(conn, st.sql, st.nparams, NULL, bound, NULL, NULL, 0);
        dm_stmt_free(&st);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            why = PQresultErrorMessage(r);
    }
    if (why != NULL) {
        fprintf(out, "%s: warning: cannot look for NULLs in source.eligible: %s\n", cfg->path,
                error_text(r, why, err, sizeof err));
    } else if (read_finding(r, &f)) {
        char where[300] = "";
        if (f.columns[0])
            snprintf(where, sizeof where, " (NULL in %s)", f.columns);
        if (f.exact)
            fprintf(out,
                    "%s: warning: source.eligible is NULL (not false) for %lld of %lld source "
                    "rows%s: " ADVICE "\n",
                    cfg->path, f.rows, f.of, where);
        else
            fprintf(out,
                    "%s: warning: source.eligible is NULL (not false) for about %lld of about "
                    "%lld source rows%s, estimated from a sample of %lld: " ADVICE "\n",
                    cfg->path, f.rows, f.of, where, f.sampled);
    }
    PQclear(r);
    PQfinish(conn);
    dm_sql_names_free(&n);
}
