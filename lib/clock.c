/* One clock: how the source's time columns become instants (DESIGN.md §1, promise 2). */
#include "clock.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sql.h"

const char *const dm_clock_params[] = {"table", "activity", "created", "zone", NULL};

void dm_clock_values(const struct dm_config *cfg, const char *quoted_table, const char **values)
{
    values[0] = quoted_table;
    values[1] = cfg->source.last_activity_at;
    values[2] = cfg->source.created_at;
    values[3] = cfg->source.timezone;
}

/* The kind of a column of type t; false when t is not a time type. */
static bool kind_of(const char *t, enum dm_time_kind *k)
{
    if (strcmp(t, "timestamp with time zone") == 0)
        *k = DM_TIME_INSTANT;
    else if (strcmp(t, "timestamp without time zone") == 0)
        *k = DM_TIME_LOCAL;
    else if (strcmp(t, "date") == 0)
        *k = DM_TIME_DATE;
    else
        return false;
    return true;
}

bool dm_clock_decide(const struct dm_config *cfg, const char *activity_type,
                     const char *created_type, const char *server_tz, bool zone_known,
                     struct dm_clock *out, char *err, size_t errlen)
{
    const struct {
        const char *key;
        const char *column;
        const char *type;
        enum dm_time_kind *kind;
    } cols[] = {
        {"last_activity_at", cfg->source.last_activity_at, activity_type, &out->activity},
        {"created_at", cfg->source.created_at, created_type, &out->created},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i].type == NULL) {
            snprintf(err, errlen, "source.%s: column %s does not exist in %s", cols[i].key,
                     cols[i].column, cfg->source.table);
            return false;
        }
        if (!kind_of(cols[i].type, cols[i].kind)) {
            snprintf(err, errlen,
                     "source.%s: column %s has type %s, expected a timestamp or a date",
                     cols[i].key, cols[i].column, cols[i].type);
            return false;
        }
        if (*cols[i].kind != DM_TIME_INSTANT && cfg->source.timezone[0] == '\0') {
            snprintf(err, errlen,
                     "source.%s: column %s is %s and source.timezone is empty: set it to the zone "
                     "the application writes it in (the server's TimeZone is %s; Rails writes "
                     "UTC)",
                     cols[i].key, cols[i].column, cols[i].type, server_tz ? server_tz : "unknown");
            return false;
        }
    }
    if (!zone_known) {
        snprintf(err, errlen, "source.timezone: PostgreSQL does not know the time zone \"%s\"",
                 cfg->source.timezone);
        return false;
    }
    return true;
}

int dm_clock_read(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                  struct dm_clock *out, char *err, size_t errlen)
{
    struct dm_stmt st;
    const char *values[4], *bound[DM_SQL_MAX_PARAMS];
    dm_clock_values(cfg, n->value[DM_N_SRC], values);
    dm_sql_render(&st, dm_sql(DM_SQL_SCHEMA_TIME_COLUMNS), n, dm_clock_params);
    dm_stmt_bind(&st, values, bound);
    PGresult *r = PQexecParams(conn, st.sql, st.nparams, NULL, bound, NULL, NULL, 0);
    dm_stmt_free(&st);
    int rc = DM_EXIT_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(err, errlen, "cannot read the source's column types: %s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
        rc = PQstatus(conn) == CONNECTION_BAD ? DM_EXIT_UNAVAILABLE : DM_EXIT_FAILURE;
    } else if (!dm_clock_decide(cfg, PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0),
                                PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1),
                                PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3)[0] == 't', out, err,
                                errlen)) {
        rc = DM_EXIT_CONFIG;
    }
    PQclear(r);
    return rc;
}

/* The text before and after the expression, by use and kind; %s is the zone. */
static const char *const wraps[2][3][2] = {
    [DM_CLOCK_INSTANT] =
        {
            [DM_TIME_INSTANT] = {"(", ")"},
            [DM_TIME_LOCAL] = {"((", ") AT TIME ZONE %s)"},
            [DM_TIME_DATE] = {"(((", ") + 1)::timestamp AT TIME ZONE %s)"},
        },
    [DM_CLOCK_BOUND] =
        {
            [DM_TIME_INSTANT] = {"(", ")"},
            [DM_TIME_LOCAL] = {"((", ")::timestamptz AT TIME ZONE %s)"},
            /* start(d + 1) <= B  <=>  d + 1 <= date(B)  <=>  d <= date(B) - 1 */
            [DM_TIME_DATE] = {"(((", ")::timestamptz AT TIME ZONE %s)::date - 1)"},
        },
};

void dm_clock_wrap(enum dm_clock_use use, enum dm_time_kind k, const char *zone, char *open,
                   char *close, size_t len)
{
    snprintf(open, len, "%s", wraps[use][k][0]);
    const char *c = wraps[use][k][1];
    const char *at = strstr(c, "%s");
    if (at == NULL)
        snprintf(close, len, "%s", c);
    else
        snprintf(close, len, "%.*s%s%s", (int)(at - c), c, zone, at + 2);
}
