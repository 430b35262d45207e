/* dormantctl status: the whole deployment at a glance. */
#include "ctl_status.h"

#include <stdlib.h>

#include "config.h"
#include "ctl_util.h"

/* Everything status reports, as one jsonb document; the readable view below
 * is derived from this same document so the two never disagree. */
static const char status_sql[] =
    "WITH s AS (SELECT state, count(*) AS n FROM @S@.account GROUP BY state),"
    " o AS (SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending,"
    "              count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,"
    "              count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NOT NULL) AS dead"
    "         FROM @S@.outbox),"
    " u AS (SELECT count(*) AS n FROM @S@.account a JOIN @S@.outbox ob"
    "         ON ob.id = a.request_outbox_id"
    "        WHERE a.state = 'pending' AND ob.dead_at IS NOT NULL AND ob.delivered_at IS NULL),"
    " x AS (SELECT count(*) AS n FROM @S@.exemption WHERE until IS NULL OR until > now())"
    " SELECT jsonb_build_object("
    "   'schema_version', m.version,"
    "   'accounts', jsonb_build_object("
    "      'active', coalesce((SELECT n FROM s WHERE state = 'active'), 0),"
    "      'pending', coalesce((SELECT n FROM s WHERE state = 'pending'), 0),"
    "      'suspended', coalesce((SELECT n FROM s WHERE state = 'suspended'), 0),"
    "      'erased', coalesce((SELECT n FROM s WHERE state = 'erased'), 0)),"
    "   'undeliverable_requests', u.n,"
    "   'exemptions', x.n,"
    "   'outbox', jsonb_build_object('pending', o.pending, 'delivered', o.delivered,"
    "                                'dead', o.dead),"
    "   'paused', c.paused, 'paused_by', c.paused_by, 'paused_at', c.paused_at,"
    "   'last_pass', jsonb_build_object('at', c.last_pass_at, 'duration_ms', c.last_pass_ms,"
    "                                   'outcome', c.last_pass_outcome, 'counts', c.last_pass),"
    "   'guards', c.guards,"
    "   'backlog_accepted', c.backlog_accepted, 'backlog_accepted_at', c.backlog_accepted_at,"
    "   'rescan_requested', c.rescan,"
    "   'leader', c.leader)"
    "   FROM @S@.control c, @S@.meta m, o, u, x";

/* The readable view of the status document $1. */
/* clang-format off */
#define TS(path) "to_char((j#>>'" path "')::timestamptz, 'YYYY-MM-DD HH24:MI:SS\"Z\"')"
static const char summary_sql[] =
    "SELECT CASE WHEN (j->>'paused')::boolean"
    "   THEN 'YES, by ' || coalesce(j->>'paused_by', '?') || ' since ' || " TS("{paused_at}")
    "   ELSE 'no' END AS \"paused\","
    " coalesce(" TS("{last_pass,at}") " || ', ' || (j#>>'{last_pass,duration_ms}') || ' ms, '"
    "   || coalesce(j#>>'{last_pass,outcome}', '?'), 'never') AS \"last pass\","
    " coalesce((SELECT string_agg(key || '=' || value, ' ' ORDER BY key)"
    "             FROM jsonb_each_text(CASE jsonb_typeof(j#>'{last_pass,counts}')"
    "               WHEN 'object' THEN j#>'{last_pass,counts}' END)), '-') AS \"last pass did\","
    " coalesce(j->>'leader', '-') AS \"leader\","
    " CASE WHEN (j->>'rescan_requested')::boolean THEN 'requested for the next pass'"
    "   ELSE 'no' END AS \"rescan\","
    " coalesce((j->>'backlog_accepted') || ' at ' || " TS("{backlog_accepted_at}") ", '-')"
    "   AS \"backlog accepted\","
    " (j#>>'{outbox,pending}') || ' pending, ' || (j#>>'{outbox,delivered}') || ' delivered, '"
    "   || (j#>>'{outbox,dead}') || ' dead' AS \"outbox\","
    " (j->>'undeliverable_requests') AS \"undeliverable\","
    " (j->>'exemptions') AS \"exemptions\""
    " FROM (SELECT $1::jsonb AS j) AS d";

static const char accounts_sql[] =
    "SELECT k AS state, coalesce(j#>>ARRAY['accounts', k], '0') AS subscribers"
    "  FROM (SELECT $1::jsonb AS j) AS d,"
    "       unnest(ARRAY['active', 'pending', 'suspended', 'erased']) WITH ORDINALITY AS t(k, i)"
    " ORDER BY i";

/* Guards are the object-valued entries of control.guards ({"tripped": ..., readings}). */
static const char guards_sql[] =
    "SELECT key AS guard,"
    "  CASE WHEN coalesce((value->>'tripped')::boolean, false) THEN 'TRIPPED' ELSE 'ok' END,"
    "  coalesce((SELECT string_agg(k || '=' || v, ' ' ORDER BY k)"
    "              FROM jsonb_each_text(value - 'tripped') AS e(k, v)), '')"
    "  FROM jsonb_each(CASE jsonb_typeof($1::jsonb->'guards') WHEN 'object'"
    "                  THEN $1::jsonb->'guards' ELSE '{}' END)"
    " WHERE jsonb_typeof(value) = 'object'"
    " ORDER BY key";
/* clang-format on */

int dm_ctl_status(const struct dm_config *cfg, int argc, char **argv)
{
    bool json;
    if (!dm_ctl_parse("status", argc, argv, NULL, &json, NULL, 0, "[--json]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "status");
    if (rc != DM_EXIT_OK)
        return rc;
    PGresult *doc = dm_ctl_query(&ctl, status_sql, 0, NULL, "reading status", &rc);
    if (doc == NULL)
        goto out;
    const char *params[] = {PQgetvalue(doc, 0, 0)};
    if (json) {
        PGresult *p = dm_ctl_exec(&ctl, "SELECT jsonb_pretty($1::jsonb)", 1, params, "json", &rc);
        if (p != NULL)
            printf("%s\n", PQgetvalue(p, 0, 0));
        PQclear(p);
        PQclear(doc);
        goto out;
    }
    PGresult *sum = dm_ctl_exec(&ctl, summary_sql, 1, params, "formatting status", &rc);
    PGresult *acc = dm_ctl_exec(&ctl, accounts_sql, 1, params, "formatting status", &rc);
    PGresult *grd = dm_ctl_exec(&ctl, guards_sql, 1, params, "formatting status", &rc);
    if (sum != NULL && acc != NULL && grd != NULL) {
        printf("dormant status (schema %s; times in UTC)\n", cfg->database.schema);
        dm_ctl_print_record(stdout, sum, "  ");
        printf("accounts\n");
        static const char *const acc_titles[] = {"STATE", "SUBSCRIBERS"};
        dm_ctl_print_table(stdout, acc, acc_titles, "  ");
        printf("guards\n");
        static const char *const grd_titles[] = {"GUARD", "STATE", "DETAIL"};
        dm_ctl_print_table(stdout, grd, grd_titles, "  ");
    }
    PQclear(sum);
    PQclear(acc);
    PQclear(grd);
    PQclear(doc);
out:
    dm_ctl_close(&ctl);
    return rc;
}
