/* dormant's own tables: creation, upgrades, and the check that they fit. */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "sql.h"
#include "strbuf.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...) DM_PRINTF(3, 4);

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    err[strcspn(err, "\n")] = '\0';
}

/* "relation already exists, skipping" and friends are not news to an operator. */
static void quiet_notice(void *arg, const char *message)
{
}

PGconn *dm_schema_connect(const struct dm_config *cfg, const char *appname, char *err,
                          size_t errlen)
{
    const char *const keys[] = {"fallback_application_name", "dbname", NULL};
    const char *const vals[] = {appname, cfg->database.conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        seterr(err, errlen, "database unreachable: %s",
               conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    return conn;
}

/* Runs sql (no parameters); on failure fills err with context and returns false. */
static bool exec(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        seterr(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* Renders file f for names n; parameters in the order of params. */
static char *render(enum dm_sql_file f, const struct dm_sql_names *n, const char *const *params)
{
    struct dm_stmt st;
    dm_sql_render(&st, dm_sql(f), n, params);
    for (int i = 0; i < st.nparams; i++)
        if (st.params[i] != i)
            abort(); /* the file leaves out a parameter given here */
    return st.sql;
}

/* File f with slots filled, rendered for names n (no parameters). */
static char *composed(enum dm_sql_file f, const struct dm_sql_slot *slots, size_t nslots,
                      const struct dm_sql_names *n)
{
    char *tmpl = dm_sql_compose(dm_sql(f), slots, nslots);
    struct dm_stmt st;
    dm_sql_render(&st, tmpl, n, NULL);
    free(tmpl);
    return st.sql;
}

/* Runs file f (no parameters); on failure fills err with context. */
static bool exec_file(PGconn *conn, enum dm_sql_file f, const struct dm_sql_names *n,
                      const char *what, char *err, size_t errlen)
{
    char *sql = render(f, n, NULL);
    bool ok = exec(conn, sql, what, err, errlen);
    free(sql);
    return ok;
}

/* Runs file f with the parameters named in params, valued by values. */
static PGresult *query(PGconn *conn, enum dm_sql_file f, const struct dm_sql_names *n,
                       const char *const *params, const char *const *values)
{
    char *sql = render(f, n, params);
    int np = 0;
    while (params != NULL && params[np] != NULL)
        np++;
    PGresult *r = PQexecParams(conn, sql, np, NULL, values, NULL, NULL, 0);
    free(sql);
    return r;
}

/* Type of one column of the source table, formatted ("bigint", "text"),
 * or NULL when the column does not exist. */
static char *column_type(PGconn *conn, const struct dm_sql_names *n, const char *column)
{
    static const char *const params[] = {"table", "column", NULL};
    const char *values[] = {n->value[DM_N_SRC], column};
    PGresult *r = query(conn, DM_SQL_SCHEMA_COLUMN_TYPE, n, params, values);
    char *t = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        t = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return t;
}

static bool id_type_supported(const char *t)
{
    return strcmp(t, "bigint") == 0 || strcmp(t, "integer") == 0 || strcmp(t, "uuid") == 0 ||
           strcmp(t, "text") == 0;
}

/* The billing values must be valid for the column's type t (enum types). */
static bool billing_accepts(PGconn *conn, const struct dm_sql_names *n, const char *t, char *why,
                            size_t whylen)
{
    const struct dm_sql_slot slot[] = {{"TYPE", t}};
    char *tmpl = dm_sql_compose(dm_sql(DM_SQL_SCHEMA_BILLING_CHECK), slot, 1);
    struct dm_stmt st;
    dm_sql_render(&st, tmpl, n, NULL);
    free(tmpl);
    bool ok = exec(conn, st.sql, "check", why, whylen);
    dm_stmt_free(&st);
    return ok;
}

/* Checks that the source table and every mapped column exist and fit.
 * On success *id_type holds the id column's type (caller frees). */
static int check_source(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                        char **id_type, char *err, size_t errlen)
{
    static const char *const table_params[] = {"table", NULL};
    const char *table_values[] = {n->value[DM_N_SRC]};
    PGresult *r = query(conn, DM_SQL_SCHEMA_TABLE_EXISTS, n, table_params, table_values);
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists) {
        seterr(err, errlen, "source.table %s does not exist (or is not visible to this role)",
               cfg->source.table);
        return DM_EXIT_CONFIG;
    }

    static const char *const time_types[] = {"timestamp with time zone",
                                             "timestamp without time zone", "date", NULL};
    const struct {
        const char *key;
        const char *column;
        const char *const *types; /* NULL: any type */
    } cols[] = {
        {"id", cfg->source.id, NULL},
        {"email", cfg->source.email, NULL},
        {"created_at", cfg->source.created_at, time_types},
        {"last_activity_at", cfg->source.last_activity_at, time_types},
        {"locale", cfg->source.locale, NULL},
        {"billing.column", cfg->source.billing.column, NULL},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i].column[0] == '\0')
            continue;
        char *t = column_type(conn, n, cols[i].column);
        if (t == NULL) {
            seterr(err, errlen, "source.%s: column %s does not exist in %s", cols[i].key,
                   cols[i].column, cfg->source.table);
            return DM_EXIT_CONFIG;
        }
        bool fits = cols[i].types == NULL;
        for (const char *const *ty = cols[i].types; ty && *ty; ty++)
            fits = fits || strcmp(t, *ty) == 0;
        if (!fits) {
            seterr(err, errlen, "source.%s: column %s has type %s, expected a timestamp",
                   cols[i].key, cols[i].column, t);
            free(t);
            return DM_EXIT_CONFIG;
        }
        if (i == 0) {
            if (!id_type_supported(t)) {
                seterr(err, errlen,
                       "source.id: column %s has type %s; supported: bigint, integer, uuid, text",
                       cols[i].column, t);
                free(t);
                return DM_EXIT_CONFIG;
            }
            *id_type = t;
        } else if (i == 5) {
            char why[512];
            if (!billing_accepts(conn, n, t, why, sizeof why)) {
                seterr(err, errlen,
                       "source.billing: column %s (%s) does not accept the configured values: %s",
                       cols[i].column, t, why);
                free(t);
                return DM_EXIT_CONFIG;
            }
            free(t);
        } else {
            free(t);
        }
    }
    /* Naive and date columns need source.timezone (promise 2). */
    struct dm_clock clock;
    int rc = dm_clock_read(conn, cfg, n, &clock, err, errlen);
    if (rc != DM_EXIT_OK)
        return rc;
    for (size_t i = 0; i < cfg->policy.erase_columns.n; i++) {
        char *t = column_type(conn, n, cfg->policy.erase_columns.items[i]);
        if (t == NULL) {
            seterr(err, errlen, "policy.erase_columns: column %s does not exist in %s",
                   cfg->policy.erase_columns.items[i], cfg->source.table);
            return DM_EXIT_CONFIG;
        }
        free(t);
    }
    if (cfg->source.eligible[0] != '\0') {
        char why[512];
        bool ok = exec_file(conn, DM_SQL_SCHEMA_ELIGIBLE_PLANS, n, "plan", why, sizeof why);
        if (!ok) {
            seterr(err, errlen, "source.eligible does not plan: %s", why);
            return DM_EXIT_CONFIG;
        }
    }
    return DM_EXIT_OK;
}

/* After a refusal for lack of privilege, names the role that should run
 * what failed: the schema's owner for migrate, the table's for indexes. */
static void hint_role(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                      char *err, size_t errlen)
{
    bool owner = strstr(err, "must be owner") != NULL;
    if (!owner && strstr(err, "permission denied") == NULL)
        return;
    static const char *const params[] = {"schema", "table", NULL};
    const char *values[] = {cfg->database.schema, n->value[DM_N_SRC]};
    PGresult *r = query(conn, DM_SQL_SCHEMA_OWNERS, n, params, values);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        size_t used = strlen(err);
        while (used > 0 && (err[used - 1] == '\n' || err[used - 1] == ' '))
            err[--used] = '\0';
        const char *who = PQgetvalue(r, 0, 0);
        if (owner)
            snprintf(err + used, errlen - used,
                     " (connected as %s: --create-indexes needs the owner of %s (%s); run it "
                     "as that role, or run the CREATE INDEX that migrate prints as them)",
                     who, cfg->source.table, PQgetvalue(r, 0, 2));
        else
            snprintf(err + used, errlen - used,
                     " (connected as %s: run migrate as the role that owns the schema %s (%s), "
                     "dormant_owner in the README, not as the daemon's role)",
                     who, cfg->database.schema,
                     PQgetisnull(r, 0, 1) ? "not created yet: a role with CREATE on the database"
                                          : PQgetvalue(r, 0, 1));
    }
    PQclear(r);
}

/*
 * Runs sql, the CREATE INDEX CONCURRENTLY of index name on the source
 * table. PostgreSQL cannot build an index on a partitioned table
 * concurrently, so on one the index is built as its documentation says: an
 * invalid index ON ONLY the parent (no build, a brief lock), then on each
 * partition concurrently, each attached to the parent's, which becomes valid
 * with the last. Every step is IF NOT EXISTS or a no-op when done, so an
 * interrupted run is finished by the next. Partitions that are themselves
 * partitioned are not descended into.
 */
static bool create_index(PGconn *conn, const struct dm_sql_names *n, const char *sql,
                         const char *name, FILE *out, char *err, size_t errlen)
{
    static const char *const params[] = {"table", NULL};
    const char *values[] = {n->value[DM_N_SRC]};
    PGresult *parts = query(conn, DM_SQL_SCHEMA_PARTITIONS, n, params, values);
    if (PQresultStatus(parts) != PGRES_TUPLES_OK) {
        seterr(err, errlen, "partitions: %s", PQresultErrorMessage(parts));
        PQclear(parts);
        return false;
    }
    if (PQntuples(parts) == 0) {
        PQclear(parts);
        return exec(conn, sql, "create index", err, errlen);
    }
    /* sql is "CREATE INDEX CONCURRENTLY IF NOT EXISTS <name> ON <table> <key>". */
    struct dm_strbuf on = {0};
    dm_strbuf_printf(&on, "%s ON %s ", name, n->value[DM_N_SRC]);
    const char *key = strstr(sql, on.s);
    bool ok = key != NULL;
    if (!ok)
        seterr(err, errlen, "create index: unexpected statement %s", sql);
    else
        key += strlen(on.s);
    /* Each partition's index: the parent's name (unquoted, cut short) and
     * the partition's oid, which no other partition shares. */
    char base[41];
    snprintf(base, sizeof base, "%s", name + (name[0] == '"'));
    base[strcspn(base, "\"")] = '\0';
    for (int p = -1; ok && p < PQntuples(parts); p++) {
        char raw[64] = "";
        if (p >= 0)
            snprintf(raw, sizeof raw, "%s_p%s", base, PQgetvalue(parts, p, 1));
        char *pname = PQescapeIdentifier(conn, raw, strlen(raw));
        const struct dm_sql_slot slots[] = {
            {"IDXNAME", name},
            {"KEY", key},
            {"PNAME", pname},
            {"PART", p >= 0 ? PQgetvalue(parts, p, 0) : ""},
            {"SCHEMA", PQgetvalue(parts, 0, 2)},
            {"PSCHEMA", p >= 0 ? PQgetvalue(parts, p, 3) : ""},
        };
        const size_t ns = sizeof slots / sizeof slots[0];
        if (p < 0) {
            char *s = composed(DM_SQL_SCHEMA_INDEX_ON_ONLY, slots, ns, n);
            ok = exec(conn, s, "create index on only the parent", err, errlen);
            free(s);
        } else {
            char *s = composed(DM_SQL_SCHEMA_INDEX_PARTITION, slots, ns, n);
            fprintf(out, "creating index: %s\n", s);
            fflush(out);
            ok = exec(conn, s, "create index on a partition", err, errlen);
            free(s);
            s = composed(DM_SQL_SCHEMA_INDEX_ATTACH, slots, ns, n);
            ok = ok && exec(conn, s, "attach the partition's index", err, errlen);
            free(s);
        }
        PQfreemem(pname);
    }
    free(on.s);
    PQclear(parts);
    return ok;
}

/* Reports (and optionally creates) the source indexes passes need. */
static int ensure_indexes(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                          bool create, FILE *out, char *err, size_t errlen)
{
    static const char *const params[] = {"table", "column", NULL};
    const struct {
        enum dm_sql_file create;
        const char *first_column; /* the column an existing index must lead with */
        enum dm_name name;        /* the index's name */
    } want[] = {
        {DM_SQL_SCHEMA_INDEX_LAST_ACTIVITY, cfg->source.last_activity_at, DM_N_IDX_LAST_ACTIVITY},
        {DM_SQL_SCHEMA_INDEX_NEVER_ACTIVE, cfg->source.created_at, DM_N_IDX_NEVER_ACTIVE},
    };
    size_t nwant = cfg->policy.never_active_after.set ? 2 : 1;
    for (size_t i = 0; i < nwant; i++) {
        const char *values[] = {n->value[DM_N_SRC], want[i].first_column};
        PGresult *r = query(conn, DM_SQL_SCHEMA_INDEX_COUNT, n, params, values);
        bool have = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        char *sql = render(want[i].create, n, NULL);
        int rc = DM_EXIT_OK;
        if (have) {
            fprintf(out, "index ok: %s has an index on %s\n", cfg->source.table,
                    want[i].first_column);
        } else if (!create) {
            fprintf(out, "index missing: %s; create it with --create-indexes, or run: %s;\n",
                    want[i].first_column, sql);
        } else {
            fprintf(out, "creating index: %s\n", sql);
            fflush(out);
            if (!create_index(conn, n, sql, n->value[want[i].name], out, err, errlen)) {
                rc = DM_EXIT_FAILURE;
                hint_role(conn, cfg, n, err, errlen);
            }
        }
        free(sql);
        if (rc != DM_EXIT_OK)
            return rc;
    }
    return DM_EXIT_OK;
}

int dm_schema_migrate(PGconn *conn, const struct dm_config *cfg, bool create_indexes, FILE *out,
                      char *err, size_t errlen)
{
    struct dm_sql_names n;
    char *id_type = NULL;
    if (!dm_sql_names_build(&n, cfg, err, errlen))
        return DM_EXIT_CONFIG;
    int rc = check_source(conn, cfg, &n, &id_type, err, errlen);
    if (rc != DM_EXIT_OK)
        goto done;
    dm_sql_names_set_id_type(&n, id_type);

    rc = DM_EXIT_FAILURE;
    if (!exec_file(conn, DM_SQL_TX_BEGIN, &n, "begin", err, errlen))
        goto done;
    if (!exec_file(conn, DM_SQL_SCHEMA_PREPARE, &n, "create schema", err, errlen))
        goto out;
    PGresult *r = query(conn, DM_SQL_SCHEMA_META, &n, NULL, NULL);
    int version = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        version = atoi(PQgetvalue(r, 0, 0));
        if (strcmp(PQgetvalue(r, 0, 1), id_type) != 0) {
            seterr(err, errlen,
                   "schema %s was created for source.id type %s, but the column is now %s",
                   cfg->database.schema, PQgetvalue(r, 0, 1), id_type);
            PQclear(r);
            rc = DM_EXIT_CONFIG;
            goto out;
        }
    }
    PQclear(r);
    if (version > DM_SCHEMA_VERSION) {
        seterr(err, errlen, "schema %s is at version %d, newer than this dormant (%d)",
               cfg->database.schema, version, DM_SCHEMA_VERSION);
        rc = DM_EXIT_CONFIG;
        goto out;
    }
    for (int v = version; v < DM_SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof what, "migration %d", v + 1);
        if (!exec_file(conn, dm_sql_migrations[v], &n, what, err, errlen))
            goto out;
        fprintf(out, "migrated %s to version %d\n", cfg->database.schema, v + 1);
    }
    static const char *const record_params[] = {"version", "id_type", "table", "columns", NULL};
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", DM_SCHEMA_VERSION);
    char *columns = dm_schema_mapping_json(cfg);
    const char *record_values[] = {vtext, id_type, n.value[DM_N_SRC], columns};
    r = query(conn, DM_SQL_SCHEMA_RECORD_VERSION, &n, record_params, record_values);
    free(columns);
    bool recorded = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!recorded)
        seterr(err, errlen, "record version: %s", PQresultErrorMessage(r));
    PQclear(r);
    if (!recorded || !exec_file(conn, DM_SQL_TX_COMMIT, &n, "commit", err, errlen))
        goto out;
    if (version == DM_SCHEMA_VERSION)
        fprintf(out, "schema %s is up to date (version %d)\n", cfg->database.schema,
                DM_SCHEMA_VERSION);
    rc = ensure_indexes(conn, cfg, &n, create_indexes, out, err, errlen);
    goto done;
out:
    PQclear(PQexec(conn, dm_sql(DM_SQL_TX_ROLLBACK)));
    hint_role(conn, cfg, &n, err, errlen);
done:
    free(id_type);
    dm_sql_names_free(&n);
    return rc;
}

/* Appends "key":"value" to a JSON object being built. */
static void json_member(struct dm_strbuf *b, const char *key, const char *value)
{
    dm_strbuf_printf(b, "%s\"%s\":\"", b->len > 1 ? "," : "", key);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            dm_strbuf_add(b, "\\", 1);
        if ((unsigned char)*p < 0x20)
            dm_strbuf_printf(b, "\\u%04x", (unsigned char)*p);
        else
            dm_strbuf_add(b, p, 1);
    }
    dm_strbuf_str(b, "\"");
}

char *dm_schema_mapping_json(const struct dm_config *cfg)
{
    struct dm_strbuf b = {0};
    dm_strbuf_str(&b, "{");
    json_member(&b, "id", cfg->source.id);
    json_member(&b, "email", cfg->source.email);
    json_member(&b, "created_at", cfg->source.created_at);
    json_member(&b, "last_activity_at", cfg->source.last_activity_at);
    json_member(&b, "locale", cfg->source.locale);
    json_member(&b, "billing.column", cfg->source.billing.column);
    dm_strbuf_str(&b, "}");
    return b.s;
}

bool dm_schema_mapping_ok(const PGresult *r, const char *schema, const char *table, char *err,
                          size_t errlen)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        seterr(err, errlen, "schema %s is not migrated: run dormantctl migrate", schema);
        return false;
    }
    const char *recorded = PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0);
    const char *now = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
    if (now == NULL) {
        seterr(err, errlen, "source.table %s does not exist (or is not visible to this role)",
               table);
        return false;
    }
    if (recorded == NULL || strcmp(recorded, now) != 0) {
        seterr(err, errlen,
               "source.table %s is %s, but schema %s was migrated for %s: run dormantctl migrate "
               "with this configuration if that table is meant",
               table, now, schema, recorded ? recorded : "no recorded table");
        return false;
    }
    if (strcmp(PQgetvalue(r, 0, 3), "t") != 0) {
        seterr(err, errlen,
               "the source columns of this configuration are not those schema %s was migrated "
               "for (%s): run dormantctl migrate with this configuration if they are meant",
               schema, PQgetisnull(r, 0, 2) ? "none recorded" : PQgetvalue(r, 0, 2));
        return false;
    }
    return true;
}

int dm_schema_check(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                    char *err, size_t errlen)
{
    char *sql = render(DM_SQL_SCHEMA_META, n, NULL);
    PGresult *r = PQexec(conn, sql);
    free(sql);
    int rc = DM_EXIT_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        seterr(err, errlen, "schema %s is not migrated: run dormantctl migrate",
               cfg->database.schema);
        rc = DM_EXIT_CONFIG;
    } else if (atoi(PQgetvalue(r, 0, 0)) < DM_SCHEMA_VERSION) {
        seterr(err, errlen,
               "schema %s is at version %s, this dormant needs %d: run dormantctl "
               "migrate",
               cfg->database.schema, PQgetvalue(r, 0, 0), DM_SCHEMA_VERSION);
        rc = DM_EXIT_CONFIG;
    } else if (atoi(PQgetvalue(r, 0, 0)) > DM_SCHEMA_VERSION + 1) {
        /* Expand/contract (DESIGN §6): the next version only adds, so this
         * release still works on it; beyond that it may have contracted. */
        seterr(err, errlen,
               "schema %s is at version %s, newer than this dormant can use (%d or %d): "
               "upgrade dormant",
               cfg->database.schema, PQgetvalue(r, 0, 0), DM_SCHEMA_VERSION, DM_SCHEMA_VERSION + 1);
        rc = DM_EXIT_CONFIG;
    }
    PQclear(r);
    if (rc != DM_EXIT_OK)
        return rc;
    /* The table and columns it was migrated for, and source.eligible. */
    static const char *const params[] = {"table", "columns", NULL};
    char *columns = dm_schema_mapping_json(cfg);
    const char *values[] = {n->value[DM_N_SRC], columns};
    r = query(conn, DM_SQL_SCHEMA_MAPPING, n, params, values);
    free(columns);
    bool ok = dm_schema_mapping_ok(r, cfg->database.schema, cfg->source.table, err, errlen);
    PQclear(r);
    if (!ok)
        return DM_EXIT_CONFIG;
    char why[512];
    if (!exec_file(conn, DM_SQL_SCHEMA_ELIGIBLE_PLANS, n, "plan", why, sizeof why)) {
        seterr(err, errlen, "source.eligible does not plan: %s", why);
        return DM_EXIT_CONFIG;
    }
    return DM_EXIT_OK;
}
