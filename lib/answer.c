/* A subscriber's answer (keep or pause) as one statement, and the token lookup behind the page. */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schema.h"

/* The quoted names every statement here needs, from the configuration. */
struct names {
    char schema[256];    /* "dormant" */
    char table[512];     /* "public"."subscribers" */
    char id[256];        /* source id column */
    char email[256];     /* source email column */
    char locale[300];    /* s."locale", or NULL when there is no locale column */
    char billing[256];   /* source billing column */
    char active[256];    /* literal of the billing active value */
    char suspended[256]; /* literal of the billing suspended value */
};

static void names_fill(struct names *n, const struct dm_config *cfg)
{
    char q[256];
    dm_sql_ident(cfg->database.schema, n->schema, sizeof n->schema);
    dm_sql_ident(cfg->source.table, n->table, sizeof n->table);
    dm_sql_ident(cfg->source.id, n->id, sizeof n->id);
    dm_sql_ident(cfg->source.email, n->email, sizeof n->email);
    if (cfg->source.locale[0] != '\0')
        snprintf(n->locale, sizeof n->locale, "s.%s",
                 dm_sql_ident(cfg->source.locale, q, sizeof q));
    else
        snprintf(n->locale, sizeof n->locale, "NULL::text");
    dm_sql_ident(cfg->source.billing.column, n->billing, sizeof n->billing);
    dm_sql_literal(cfg->source.billing.active, n->active, sizeof n->active);
    dm_sql_literal(cfg->source.billing.suspended, n->suspended, sizeof n->suspended);
}

/* Closes a memstream and returns its buffer (abort on allocation failure). */
static char *finish(FILE *f, char **buf, size_t *len)
{
    if (fclose(f) != 0 || *buf == NULL)
        abort();
    return *buf;
}

char *dm_answer_sql(const struct dm_config *cfg, enum dm_answer_kind kind, enum dm_answer_key key)
{
    struct names n;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        abort();
    names_fill(&n, cfg);

    const bool keep = kind == DM_ANSWER_KEEP;
    const char *event = keep ? "confirmed" : "declined";
    const char *type = keep ? "subscription.confirmed" : "subscription.suspended";

    /* The subscriber, if pending (and, by token, for the token's cycle). */
    fprintf(f, "WITH target AS (SELECT a.subscriber_id, a.cycle FROM %s.account a", n.schema);
    if (key == DM_ANSWER_BY_TOKEN)
        fprintf(f,
                " JOIN %s.token t ON t.subscriber_id = a.subscriber_id AND t.cycle = a.cycle"
                " WHERE t.hash = decode($1, 'hex')",
                n.schema);
    else
        fprintf(f, " WHERE a.subscriber_id = $1");
    fprintf(f, " AND a.state = 'pending'),");

    /* The transition. Under concurrency the second UPDATE re-checks the
     * row after the first commits, finds it no longer pending, and moves
     * nothing: each answer applies once. */
    fprintf(f, " moved AS (UPDATE %s.account a SET", n.schema);
    if (keep)
        /* recheck_at stays NULL: the pass schedules the next look from
         * confirmed_at with the rule's own period. */
        fprintf(f, " state = 'active', confirmed_at = now(), recheck_at = NULL,");
    else
        fprintf(f, " state = 'suspended', suspended_at = now(),");
    fprintf(f, " next_reminder_at = NULL, updated_at = now() FROM target"
               " WHERE a.subscriber_id = target.subscriber_id AND a.cycle = target.cycle"
               " AND a.state = 'pending' RETURNING a.subscriber_id, a.cycle),");

    /* A request or reminder not delivered yet must not go out after the
     * answer. */
    fprintf(f,
            " superseded AS (UPDATE %s.outbox o SET dead_at = now(),"
            " last_error = 'superseded: the subscriber answered' FROM moved m"
            " WHERE o.subscriber_id = m.subscriber_id AND o.delivered_at IS NULL"
            " AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%%' RETURNING 1),",
            n.schema);

    /* Billing stops at once on pause, only where it is still active: a value
     * the application set otherwise is left alone. */
    if (!keep)
        fprintf(f,
                " billed AS (UPDATE %s s SET %s = %s FROM moved m"
                " WHERE s.%s = m.subscriber_id AND s.%s = %s RETURNING 1),",
                n.table, n.billing, n.suspended, n.id, n.billing, n.active);

    fprintf(f,
            " killed AS (DELETE FROM %s.token t USING moved m"
            " WHERE t.subscriber_id = m.subscriber_id RETURNING 1),",
            n.schema);
    fprintf(f,
            " ev AS (INSERT INTO %s.event (subscriber_id, kind, cycle, actor, detail)"
            " SELECT m.subscriber_id, '%s', m.cycle, $2::text,"
            " CASE WHEN $3::text IS NULL THEN '{}'::jsonb"
            " ELSE jsonb_build_object('reason', $3::text) END FROM moved m RETURNING 1),",
            n.schema, event);
    fprintf(f,
            " msg AS (INSERT INTO %s.outbox (type, subscriber_id, cycle, payload)"
            " SELECT '%s', m.subscriber_id, m.cycle, jsonb_build_object("
            "'type', '%s',"
            " 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
            " 'data', jsonb_build_object('subscriber_id', m.subscriber_id::text,"
            " 'email', s.%s, 'locale', coalesce(nullif(%s, ''), 'en')",
            n.schema, type, type, n.email, n.locale);
    if (!keep)
        fprintf(f, ", 'suspended_at', to_char(now() AT TIME ZONE 'UTC',"
                   " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'reason', 'declined'");
    fprintf(f,
            ")) FROM moved m LEFT JOIN %s s ON s.%s = m.subscriber_id"
            " RETURNING id, subscriber_id, payload)",
            n.table, n.id);
    fprintf(f, " SELECT msg.subscriber_id::text, msg.id, pg_notify('dormant_outbox', msg.id::text),"
               " msg.payload->'data'->>'locale' FROM msg");
    return finish(f, &buf, &len);
}

char *dm_answer_lookup_sql(const struct dm_config *cfg)
{
    struct names n;
    char *buf = NULL;
    size_t len = 0;
    char within[128];
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        abort();
    names_fill(&n, cfg);
    dm_interval_sql(&cfg->policy.confirm_within, within, sizeof within);
    fprintf(f,
            "SELECT a.subscriber_id::text, to_char(d.at, 'YYYY-MM-DD'), to_char(d.at, 'HH24:MI'),"
            " %s FROM %s.token t"
            " JOIN %s.account a ON a.subscriber_id = t.subscriber_id AND a.cycle = t.cycle"
            " AND a.state = 'pending'"
            " CROSS JOIN LATERAL (SELECT coalesce(a.deadline, now() + '%s'::interval)"
            " AT TIME ZONE 'UTC' AS at) d"
            " LEFT JOIN %s s ON s.%s = a.subscriber_id"
            " WHERE t.hash = decode($1, 'hex')",
            n.locale, n.schema, n.schema, within, n.table, n.id);
    return finish(f, &buf, &len);
}

enum dm_answer_result dm_answer_apply(PGconn *conn, const struct dm_config *cfg,
                                      enum dm_answer_kind kind, const char *id, const char *actor,
                                      const char *reason, char *err, size_t errlen)
{
    char *sql = dm_answer_sql(cfg, kind, DM_ANSWER_BY_ID);
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
