/* A subscriber's answer (keep or pause) as one statement, and the token lookup behind the page. */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

/* Renders a statement whose parameters must come in the order of params
 * (the order the header promises); newly allocated. */
static char *render(const char *tmpl, const struct dm_sql_names *n, const char *const *params)
{
    struct dm_stmt st;
    dm_sql_render(&st, tmpl, n, params);
    for (int i = 0; i < st.nparams; i++)
        if (st.params[i] != i)
            abort(); /* the file leaves out a parameter the header promises */
    return st.sql;
}

char *dm_answer_sql(const struct dm_sql_names *n, enum dm_answer_kind kind, enum dm_answer_key key)
{
    static const char *const params[] = {"key", "actor", "reason", NULL};
    const struct dm_sql_slot slot[] = {
        {"TARGET", dm_sql(key == DM_ANSWER_BY_TOKEN ? DM_SQL_ANSWER_TARGET_BY_TOKEN
                                                    : DM_SQL_ANSWER_TARGET_BY_ID)},
    };
    char *tmpl = dm_sql_compose(
        dm_sql(kind == DM_ANSWER_KEEP ? DM_SQL_ANSWER_KEEP : DM_SQL_ANSWER_PAUSE), slot, 1);
    char *sql = render(tmpl, n, params);
    free(tmpl);
    return sql;
}

char *dm_answer_lookup_sql(const struct dm_sql_names *n)
{
    static const char *const params[] = {"key", "confirm", NULL};
    return render(dm_sql(DM_SQL_ANSWER_LOOKUP), n, params);
}

enum dm_answer_result dm_answer_apply(PGconn *conn, const struct dm_sql_names *names,
                                      enum dm_answer_kind kind, const char *id, const char *actor,
                                      const char *reason, char *err, size_t errlen)
{
    char *sql = dm_answer_sql(names, kind, DM_ANSWER_BY_ID);
    const char *params[] = {id, actor, reason};
    PGresult *r = PQexecParams(conn, sql, 3, NULL, params, NULL, NULL, 0);
    enum dm_answer_result out;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(err, errlen, "%s (SQLSTATE %s)", msg ? msg : PQerrorMessage(conn),
                 state ? state : "none");
        for (char *c = err; *c; c++)
            if (*c == '\n')
                *c = ' ';
        out = DM_ANSWER_FAILED;
    } else {
        out = PQntuples(r) > 0 ? DM_ANSWER_APPLIED : DM_ANSWER_NOT_PENDING;
    }
    PQclear(r);
    free(sql);
    return out;
}
