/* A configuration checked against the database, from the event loop. */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "schema.h"
#include "sql.h"

struct check {
    dm_validate_fn fn;
    void *arg;
    int waiting; /* statements not answered yet */
    enum dm_validate_outcome outcome;
    char schema[256], table[256]; /* the configured names, for messages */
    char err[512];
};

static void done(struct check *c)
{
    if (--c->waiting > 0)
        return;
    c->fn(c->arg, c->outcome, c->err);
    free(c);
}

static void mapping_cb(void *arg, PGresult *res)
{
    struct check *c = arg;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (res == NULL) {
        c->outcome = DM_UNCHECKED;
        snprintf(c->err, sizeof c->err, "connection lost");
    } else if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0 ||
                         strcmp(state, "42703") == 0)) {
        c->outcome = DM_MISSING; /* no schema, no meta, or meta before this release's migration */
        snprintf(c->err, sizeof c->err, "%s", dm_db_error(res));
    } else if (!dm_schema_mapping_ok(res, c->schema, c->table, c->err, sizeof c->err)) {
        c->outcome = DM_INVALID;
    }
    done(c);
}

static void eligible_cb(void *arg, PGresult *res)
{
    struct check *c = arg;
    if (c->outcome == DM_VALID) {
        if (res == NULL) {
            c->outcome = DM_UNCHECKED;
            snprintf(c->err, sizeof c->err, "connection lost");
        } else if (!dm_db_ok(res)) {
            c->outcome = DM_INVALID;
            snprintf(c->err, sizeof c->err, "source.eligible does not plan: %s", dm_db_error(res));
        }
    }
    done(c);
}

bool dm_validate_start(struct dm_db *db, const struct dm_config *cfg, const struct dm_sql_names *n,
                       dm_validate_fn fn, void *arg)
{
    if (!dm_db_up(db))
        return false;
    struct check *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->fn = fn;
    c->arg = arg;
    c->outcome = DM_VALID;
    snprintf(c->schema, sizeof c->schema, "%s", cfg->database.schema);
    snprintf(c->table, sizeof c->table, "%s", cfg->source.table);

    static const char *const names[] = {"table", "columns", NULL};
    char *columns = dm_schema_mapping_json(cfg);
    const char *values[] = {n->value[DM_N_SRC], columns};
    const char *bound[DM_SQL_MAX_PARAMS];
    struct dm_stmt mapping, eligible;
    dm_sql_render(&mapping, dm_sql(DM_SQL_SCHEMA_MAPPING), n, names);
    dm_stmt_bind(&mapping, values, bound);
    dm_sql_render(&eligible, dm_sql(DM_SQL_SCHEMA_ELIGIBLE_PLANS), n, NULL);
    /* Both are queued on the one connection; a send that fails calls
     * back what was queued before it, at once. */
    c->waiting = 2;
    bool sent = dm_db_send(db, mapping.sql, mapping.nparams, bound, mapping_cb, c);
    if (!sent)
        free(c);
    else if (!dm_db_send(db, eligible.sql, 0, NULL, eligible_cb, c))
        eligible_cb(c, NULL);
    free(columns);
    dm_stmt_free(&mapping);
    dm_stmt_free(&eligible);
    return sent;
}
