/* dormant's own tables: creation, upgrades, and the check that they fit. */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "strbuf.h"

char *dm_sql_ident(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    if (len == 0)
        return buf;
    buf[o++] = '"';
    for (const char *p = name; *p && o + 3 < len; p++) {
        if (*p == '.') {
            buf[o++] = '"';
            buf[o++] = '.';
            buf[o++] = '"';
            continue;
        }
        if (*p == '"')
            buf[o++] = '"';
        buf[o++] = *p;
    }
    if (o + 1 < len)
        buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

char *dm_sql_literal(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    bool backslash = strchr(s, '\\') != NULL;
    if (len < 4) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    if (backslash)
        buf[o++] = 'E';
    buf[o++] = '\'';
    for (const char *p = s; *p && o + 3 < len; p++) {
        if (*p == '\'' || *p == '\\')
            buf[o++] = *p;
        buf[o++] = *p;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

/*
 * The migrations, in order: entry i brings the schema from version i to
 * i + 1. "@S@" is replaced with the quoted schema name, "@T@" with the type
 * of the source id column (so joins use the source's primary key index).
 * Never edit a released entry: append a new one.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the lifecycle tables. */
    "CREATE TABLE @S@.account ("
    "  subscriber_id @T@ PRIMARY KEY,"
    "  state text NOT NULL DEFAULT 'active'"
    "    CHECK (state IN ('active', 'pending', 'suspended', 'erased')),"
    "  cycle integer NOT NULL DEFAULT 0,"
    "  rule text CHECK (rule IN ('inactive', 'never_active')),"
    "  requested_at timestamptz,"
    "  request_outbox_id bigint,"
    "  delivered_at timestamptz,"
    "  deadline timestamptz,"
    "  reminders_sent integer NOT NULL DEFAULT 0,"
    "  next_reminder_at timestamptz,"
    "  suspended_at timestamptz,"
    "  confirmed_at timestamptz,"
    "  recheck_at timestamptz,"
    "  updated_at timestamptz NOT NULL DEFAULT now());"
    "COMMENT ON TABLE @S@.account IS 'dormant: one row per subscriber that entered the lifecycle';"
    "CREATE INDEX account_pending_deadline ON @S@.account (deadline) WHERE state = 'pending';"
    "CREATE INDEX account_pending_undelivered ON @S@.account (requested_at)"
    "  WHERE state = 'pending' AND delivered_at IS NULL;"
    "CREATE INDEX account_suspended_at ON @S@.account (suspended_at) WHERE state = 'suspended';"
    "CREATE INDEX account_recheck ON @S@.account (recheck_at)"
    "  WHERE state = 'active' AND recheck_at IS NOT NULL;"
    "CREATE INDEX account_remind ON @S@.account (next_reminder_at)"
    "  WHERE state = 'pending' AND next_reminder_at IS NOT NULL;"
    "CREATE INDEX account_suspended_id ON @S@.account (subscriber_id) WHERE state = 'suspended';"
    "CREATE INDEX account_confirmed_unscheduled ON @S@.account (subscriber_id)"
    "  WHERE state = 'active' AND confirmed_at IS NOT NULL AND recheck_at IS NULL;"

    "CREATE TABLE @S@.token ("
    "  hash bytea PRIMARY KEY,"
    "  subscriber_id @T@ NOT NULL REFERENCES @S@.account ON DELETE CASCADE,"
    "  cycle integer NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "COMMENT ON TABLE @S@.token IS 'dormant: SHA-256 of each live confirmation token';"
    "CREATE INDEX token_subscriber ON @S@.token (subscriber_id);"

    "CREATE TABLE @S@.event ("
    "  id bigserial PRIMARY KEY,"
    "  at timestamptz NOT NULL DEFAULT now(),"
    "  subscriber_id @T@,"
    "  kind text NOT NULL CHECK (kind IN ('requested', 'reminded', 'confirmed', 'declined',"
    "    'resumed', 'suspended', 'reactivated', 'erased', 'exempted', 'unexempted',"
    "    'delivery_failed', 'backlog_accepted', 'paused', 'unpaused')),"
    "  cycle integer,"
    "  actor text NOT NULL,"
    "  detail jsonb NOT NULL DEFAULT '{}');"
    "COMMENT ON TABLE @S@.event IS 'dormant: append-only audit trail';"
    "CREATE INDEX event_subscriber ON @S@.event (subscriber_id, id);"
    "CREATE INDEX event_requested_at ON @S@.event (at) WHERE kind = 'requested';"

    "CREATE TABLE @S@.outbox ("
    "  id bigserial PRIMARY KEY,"
    "  created_at timestamptz NOT NULL DEFAULT now(),"
    "  type text NOT NULL,"
    "  subscriber_id @T@ NOT NULL,"
    "  cycle integer,"
    "  payload jsonb,"
    "  attempts integer NOT NULL DEFAULT 0,"
    "  next_attempt_at timestamptz NOT NULL DEFAULT now(),"
    "  last_error text,"
    "  delivered_at timestamptz,"
    "  dead_at timestamptz,"
    "  channels_done text[] NOT NULL DEFAULT '{}',"
    "  claimed_by text,"
    "  claimed_until timestamptz);"
    "COMMENT ON TABLE @S@.outbox IS 'dormant: one row per message to a subscriber';"
    "CREATE INDEX outbox_due ON @S@.outbox (next_attempt_at)"
    "  WHERE delivered_at IS NULL AND dead_at IS NULL;"
    "CREATE INDEX outbox_subscriber ON @S@.outbox (subscriber_id, id);"

    "CREATE TABLE @S@.exemption ("
    "  subscriber_id @T@ PRIMARY KEY,"
    "  until timestamptz,"
    "  reason text NOT NULL,"
    "  actor text NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now());"

    "CREATE TABLE @S@.control ("
    "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
    "  paused boolean NOT NULL DEFAULT false,"
    "  paused_by text,"
    "  paused_at timestamptz,"
    "  backlog_accepted integer,"
    "  backlog_accepted_at timestamptz,"
    "  rescan boolean NOT NULL DEFAULT true,"
    "  inactive_mark timestamptz,"
    "  inactive_mark_id @T@,"
    "  created_mark timestamptz,"
    "  created_mark_id @T@,"
    "  activity_mark timestamptz,"
    "  reactivation_cursor @T@,"
    "  confirm_within interval NOT NULL DEFAULT '30 days',"
    "  reminders interval[] NOT NULL DEFAULT '{}',"
    "  leader text,"
    "  last_pass_at timestamptz,"
    "  last_pass_ms integer,"
    "  last_pass_outcome text,"
    "  last_pass jsonb,"
    "  guards jsonb NOT NULL DEFAULT '{}');"
    "COMMENT ON TABLE @S@.control IS 'dormant: pause flag, watermarks, last pass (one row)';"
    "INSERT INTO @S@.control DEFAULT VALUES;"

    /* Delivery, by a built-in channel or by the application's own mailer
     * acknowledging a row, starts the grace period and retires the link. */
    "CREATE FUNCTION @S@.outbox_delivered() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
    "DECLARE\n"
    "  dl timestamptz;\n"
    "  rem interval[];\n"
    "BEGIN\n"
    "  IF NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL THEN\n"
    "    IF NEW.type = 'confirmation.requested' THEN\n"
    "      SELECT GREATEST(NEW.delivered_at + c.confirm_within,\n"
    "                      (NEW.payload #>> '{data,deadline}')::timestamptz), c.reminders\n"
    "        INTO dl, rem FROM @S@.control c;\n"
    "      UPDATE @S@.account a\n"
    "         SET delivered_at = NEW.delivered_at,\n"
    "             deadline = dl,\n"
    "             next_reminder_at = (SELECT min(dl - r) FROM unnest(rem) r),\n"
    "             updated_at = now()\n"
    "       WHERE a.subscriber_id = NEW.subscriber_id AND a.request_outbox_id = NEW.id\n"
    "         AND a.state = 'pending' AND a.delivered_at IS NULL;\n"
    "    END IF;\n"
    "    IF NEW.payload IS NOT NULL THEN\n"
    "      NEW.payload := NEW.payload #- '{data,confirm_url}';\n"
    "    END IF;\n"
    "  END IF;\n"
    "  RETURN NEW;\n"
    "END\n"
    "$fn$;"
    "CREATE TRIGGER outbox_delivered BEFORE UPDATE OF delivered_at ON @S@.outbox"
    "  FOR EACH ROW EXECUTE FUNCTION @S@.outbox_delivered();",
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

/* Replaces every "@S@" and "@T@" in sql; newly allocated. */
static char *expand(const char *sql, const char *schema, const char *type)
{
    const struct dm_subst pairs[] = {{"@S@", schema}, {"@T@", type}};
    return dm_subst(sql, pairs, sizeof pairs / sizeof pairs[0]);
}

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

/* Type of one column of the source table, formatted ("bigint", "text"),
 * or NULL when the column does not exist. */
static char *column_type(PGconn *conn, const char *table, const char *column)
{
    const char *params[] = {table, column};
    PGresult *r = PQexecParams(conn,
                               "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
                               " WHERE a.attrelid = to_regclass($1) AND a.attname = $2"
                               "   AND a.attnum > 0 AND NOT a.attisdropped",
                               2, NULL, params, NULL, NULL, 0);
    char *t = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        t = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return t;
}

/* Checks that the source table and every mapped column exist and fit.
 * On success *id_type holds the id column's type (caller frees). */
static int check_source(PGconn *conn, const struct dm_config *cfg, char **id_type, char *err,
                        size_t errlen)
{
    char qtable[512];
    dm_sql_ident(cfg->source.table, qtable, sizeof qtable);
    const char *params[] = {qtable};
    PGresult *r =
        PQexecParams(conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
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
        char *t = column_type(conn, qtable, cols[i].column);
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
            if (strcmp(t, "bigint") != 0 && strcmp(t, "integer") != 0 && strcmp(t, "uuid") != 0 &&
                strcmp(t, "text") != 0) {
                seterr(err, errlen,
                       "source.id: column %s has type %s; supported: bigint, integer, uuid, text",
                       cols[i].column, t);
                free(t);
                return DM_EXIT_CONFIG;
            }
            *id_type = t;
        } else if (i == 5) {
            /* The billing values must be valid for the column (enum types). */
            char sql[1024], lit1[256], lit2[256];
            snprintf(sql, sizeof sql, "SELECT %s::%s, %s::%s",
                     dm_sql_literal(cfg->source.billing.active, lit1, sizeof lit1), t,
                     dm_sql_literal(cfg->source.billing.suspended, lit2, sizeof lit2), t);
            char why[512];
            if (!exec(conn, sql, "check", why, sizeof why)) {
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
    for (size_t i = 0; i < cfg->policy.erase_columns.n; i++) {
        char *t = column_type(conn, qtable, cfg->policy.erase_columns.items[i]);
        if (t == NULL) {
            seterr(err, errlen, "policy.erase_columns: column %s does not exist in %s",
                   cfg->policy.erase_columns.items[i], cfg->source.table);
            return DM_EXIT_CONFIG;
        }
        free(t);
    }
    if (cfg->source.eligible[0] != '\0') {
        size_t n = strlen(cfg->source.eligible) + strlen(qtable) + 64;
        char *sql = malloc(n);
        if (sql == NULL)
            abort();
        snprintf(sql, n, "EXPLAIN SELECT 1 FROM %s s WHERE (%s)", qtable, cfg->source.eligible);
        char why[512];
        bool ok = exec(conn, sql, "plan", why, sizeof why);
        free(sql);
        if (!ok) {
            seterr(err, errlen, "source.eligible does not plan: %s", why);
            return DM_EXIT_CONFIG;
        }
    }
    return DM_EXIT_OK;
}

/* The source indexes a pass wants: name suffix, columns, predicate. */
struct wanted_index {
    const char *suffix;
    char columns[256];
    char predicate[300];
    char first_column[128]; /* the column an existing index must lead with */
};

/* Reports (and optionally creates) the source indexes passes need. */
static int ensure_indexes(PGconn *conn, const struct dm_config *cfg, bool create, FILE *out,
                          char *err, size_t errlen)
{
    char qtable[512], qlast[256], qcreated[256];
    dm_sql_ident(cfg->source.table, qtable, sizeof qtable);
    dm_sql_ident(cfg->source.last_activity_at, qlast, sizeof qlast);
    dm_sql_ident(cfg->source.created_at, qcreated, sizeof qcreated);
    struct wanted_index want[2];
    size_t nwant = 1;
    memset(want, 0, sizeof want);
    want[0].suffix = "last_activity";
    snprintf(want[0].columns, sizeof want[0].columns, "%s", qlast);
    snprintf(want[0].first_column, sizeof want[0].first_column, "%s", cfg->source.last_activity_at);
    if (cfg->policy.never_active_after.set) {
        want[1].suffix = "never_active";
        snprintf(want[1].columns, sizeof want[1].columns, "%s", qcreated);
        snprintf(want[1].predicate, sizeof want[1].predicate, "%s IS NULL", qlast);
        snprintf(want[1].first_column, sizeof want[1].first_column, "%s", cfg->source.created_at);
        nwant = 2;
    }
    for (size_t i = 0; i < nwant; i++) {
        const char *params[] = {qtable, want[i].first_column};
        PGresult *r = PQexecParams(conn,
                                   "SELECT count(*) FROM pg_index i"
                                   "  JOIN pg_attribute a ON a.attrelid = i.indrelid"
                                   "   AND a.attnum = i.indkey[0]"
                                   " WHERE i.indrelid = to_regclass($1) AND a.attname = $2",
                                   2, NULL, params, NULL, NULL, 0);
        bool have = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        char idxname[256];
        const char *base = strrchr(cfg->source.table, '.');
        snprintf(idxname, sizeof idxname, "dormant_%s_%s", base ? base + 1 : cfg->source.table,
                 want[i].suffix);
        char qidx[300];
        dm_sql_ident(idxname, qidx, sizeof qidx);
        char sql[1200];
        snprintf(sql, sizeof sql, "CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s)%s%s", qidx,
                 qtable, want[i].columns, want[i].predicate[0] ? " WHERE " : "", want[i].predicate);
        if (have) {
            fprintf(out, "index ok: %s has an index on %s\n", cfg->source.table,
                    want[i].first_column);
        } else if (!create) {
            fprintf(out, "index missing: %s; create it with --create-indexes, or run: %s;\n",
                    want[i].first_column, sql);
        } else {
            fprintf(out, "creating index: %s\n", sql);
            fflush(out);
            if (!exec(conn, sql, "create index", err, errlen))
                return DM_EXIT_FAILURE;
        }
    }
    return DM_EXIT_OK;
}

int dm_schema_migrate(PGconn *conn, const struct dm_config *cfg, bool create_indexes, FILE *out,
                      char *err, size_t errlen)
{
    char qschema[256];
    char *id_type = NULL;
    int rc = check_source(conn, cfg, &id_type, err, errlen);
    if (rc != DM_EXIT_OK)
        return rc;
    dm_sql_ident(cfg->database.schema, qschema, sizeof qschema);

    if (!exec(conn, "BEGIN", "begin", err, errlen)) {
        free(id_type);
        return DM_EXIT_FAILURE;
    }
    rc = DM_EXIT_FAILURE;
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT pg_advisory_xact_lock(hashtext('dormant migrate'));"
             "CREATE SCHEMA IF NOT EXISTS %s;"
             "CREATE TABLE IF NOT EXISTS %s.meta ("
             "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
             "  version integer NOT NULL,"
             "  id_type text NOT NULL,"
             "  migrated_at timestamptz NOT NULL DEFAULT now())",
             qschema, qschema);
    if (!exec(conn, sql, "create schema", err, errlen))
        goto out;
    snprintf(sql, sizeof sql, "SELECT version, id_type FROM %s.meta", qschema);
    PGresult *r = PQexec(conn, sql);
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
    if (version > (int)N_MIGRATIONS) {
        seterr(err, errlen, "schema %s is at version %d, newer than this dormant (%zu)",
               cfg->database.schema, version, N_MIGRATIONS);
        rc = DM_EXIT_CONFIG;
        goto out;
    }
    for (size_t v = (size_t)version; v < N_MIGRATIONS; v++) {
        char *step = expand(migrations[v], qschema, id_type);
        char what[64];
        snprintf(what, sizeof what, "migration %zu", v + 1);
        bool ok = exec(conn, step, what, err, errlen);
        free(step);
        if (!ok)
            goto out;
        fprintf(out, "migrated %s to version %zu\n", cfg->database.schema, v + 1);
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.meta (version, id_type) VALUES (%zu, '%s')"
             " ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,"
             " migrated_at = CASE WHEN %s.meta.version = EXCLUDED.version"
             " THEN %s.meta.migrated_at ELSE now() END",
             qschema, N_MIGRATIONS, id_type, qschema, qschema);
    if (!exec(conn, sql, "record version", err, errlen))
        goto out;
    if (!exec(conn, "COMMIT", "commit", err, errlen))
        goto out;
    if ((size_t)version == N_MIGRATIONS)
        fprintf(out, "schema %s is up to date (version %zu)\n", cfg->database.schema, N_MIGRATIONS);
    free(id_type);
    return ensure_indexes(conn, cfg, create_indexes, out, err, errlen);
out:
    PQclear(PQexec(conn, "ROLLBACK"));
    free(id_type);
    return rc;
}

int dm_schema_check(PGconn *conn, const struct dm_config *cfg, char *err, size_t errlen)
{
    char qschema[256], sql[512];
    dm_sql_ident(cfg->database.schema, qschema, sizeof qschema);
    snprintf(sql, sizeof sql, "SELECT version FROM %s.meta", qschema);
    PGresult *r = PQexec(conn, sql);
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
    return rc;
}
