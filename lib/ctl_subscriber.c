/* dormantctl show and export: one subscriber's story, and all dormant holds. */
#include "ctl_subscriber.h"

#include <stdlib.h>

#include "ctl_util.h"

/* One subscriber as support sees it ($1 = id text). No e-mail address and
 * no message payloads: show answers "what happened", export "what is held". */
static const char show_sql[] =
    "SELECT jsonb_build_object("
    "  'subscriber_id', $1::@T@::text,"
    "  'source', (SELECT jsonb_build_object('created_at', s.@CREATED@,"
    "                 'last_activity_at', s.@ACTIVITY@, 'billing', s.@BILLING@::text,"
    "                 'billing_active', s.@BILLING@::text = @ACTIVE@::text)"
    "               FROM @TABLE@ s WHERE s.@ID@ = $1::@T@),"
    "  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM @S@.account a"
    "               WHERE a.subscriber_id = $1::@T@),"
    "  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM @S@.exemption x"
    "               WHERE x.subscriber_id = $1::@T@),"
    "  'messages', coalesce((SELECT jsonb_agg(jsonb_build_object('id', o.id, 'type', o.type,"
    "                 'created_at', o.created_at, 'attempts', o.attempts,"
    "                 'next_attempt_at', o.next_attempt_at, 'delivered_at', o.delivered_at,"
    "                 'dead_at', o.dead_at, 'last_error', o.last_error) ORDER BY o.id)"
    "               FROM @S@.outbox o WHERE o.subscriber_id = $1::@T@), '[]'),"
    "  'events', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'at', e.at,"
    "                 'kind', e.kind, 'cycle', e.cycle, 'actor', e.actor, 'detail', e.detail)"
    "                 ORDER BY e.id)"
    "               FROM @S@.event e WHERE e.subscriber_id = $1::@T@), '[]'))";

/* Everything dormant holds about the subscriber ($1), including the mapped
 * source columns (GDPR art. 15). The confirmation link inside a message not
 * yet delivered is left out: it is a live credential, not personal data. */
static const char export_sql[] =
    "SELECT jsonb_pretty(jsonb_build_object("
    "  'subscriber_id', $1::@T@::text,"
    "  'exported_at', now(),"
    "  'source', (SELECT jsonb_build_object('id', s.@ID@::text, 'email', s.@EMAIL@,"
    "                 'created_at', s.@CREATED@, 'last_activity_at', s.@ACTIVITY@,"
    "                 'locale', s.@LOCALE@, 'billing', s.@BILLING@::text)"
    "               FROM @TABLE@ s WHERE s.@ID@ = $1::@T@),"
    "  'account', (SELECT to_jsonb(a) - 'subscriber_id' FROM @S@.account a"
    "               WHERE a.subscriber_id = $1::@T@),"
    "  'exemption', (SELECT to_jsonb(x) - 'subscriber_id' FROM @S@.exemption x"
    "               WHERE x.subscriber_id = $1::@T@),"
    "  'tokens', coalesce((SELECT jsonb_agg(jsonb_build_object('cycle', t.cycle,"
    "                 'created_at', t.created_at) ORDER BY t.created_at)"
    "               FROM @S@.token t WHERE t.subscriber_id = $1::@T@), '[]'),"
    "  'messages', coalesce((SELECT jsonb_agg((to_jsonb(o) - 'subscriber_id' - 'payload'"
    "                   - 'claimed_by' - 'claimed_until')"
    "                 || jsonb_build_object('payload', o.payload #- '{data,confirm_url}')"
    "                 ORDER BY o.id)"
    "               FROM @S@.outbox o WHERE o.subscriber_id = $1::@T@), '[]'),"
    "  'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'subscriber_id' ORDER BY e.id)"
    "               FROM @S@.event e WHERE e.subscriber_id = $1::@T@), '[]')))";

/* clang-format off */
#define TS(expr) "to_char((" expr ")::timestamptz, 'YYYY-MM-DD HH24:MI:SS\"Z\"')"

/* The readable record of the show document $1, with a one-line "why". */
static const char record_sql[] =
    "SELECT j->>'subscriber_id' AS \"subscriber\","
    " coalesce(j#>>'{account,state}', 'not in the lifecycle (never asked)')"
    "   || CASE WHEN jsonb_typeof(j->'exemption') = 'object'"
    "        AND (j#>>'{exemption,until}' IS NULL"
    "             OR (j#>>'{exemption,until}')::timestamptz > now())"
    "      THEN ', exempt' ELSE '' END AS \"state\","
    " CASE"
    "  WHEN j#>>'{account,state}' = 'suspended' THEN (SELECT CASE e->>'kind'"
    "     WHEN 'declined' THEN 'chose \"Pause billing now\" on the confirmation page at '"
    "          || " TS("e->>'at'")
    "     ELSE 'no answer by the deadline ' || coalesce(" TS("j#>>'{account,deadline}'") ", '?')"
    "          || ' (request delivered '"
    "          || coalesce(" TS("j#>>'{account,delivered_at}'") ", '?')"
    "          || ', last activity '"
    "          || coalesce(" TS("j#>>'{source,last_activity_at}'") ", 'never') || ')' END"
    "     FROM jsonb_array_elements(j->'events') e"
    "    WHERE e->>'kind' IN ('declined', 'suspended')"
    "    ORDER BY (e->>'id')::bigint DESC LIMIT 1)"
    "  WHEN j#>>'{account,state}' = 'pending' AND j#>>'{account,delivered_at}' IS NULL"
    "   AND EXISTS (SELECT 1 FROM jsonb_array_elements(j->'messages') m"
    "                WHERE m->>'id' = j#>>'{account,request_outbox_id}'"
    "                  AND m->>'dead_at' IS NOT NULL)"
    "   THEN 'asked ' || coalesce(" TS("j#>>'{account,requested_at}'") ", '?')"
    "        || ', but the request could not be delivered: no deadline runs and they will'"
    "        || ' not be suspended (fix the address, or confirm or exempt them)'"
    "  WHEN j#>>'{account,state}' = 'pending' AND j#>>'{account,delivered_at}' IS NULL"
    "   THEN 'asked ' || coalesce(" TS("j#>>'{account,requested_at}'") ", '?')"
    "        || '; request not delivered yet, so no deadline runs'"
    "  WHEN j#>>'{account,state}' = 'pending'"
    "   THEN 'asked; must answer by ' || coalesce(" TS("j#>>'{account,deadline}'") ", '?')"
    "  WHEN j#>>'{account,state}' = 'erased' THEN 'personal data erased after suspension'"
    "  WHEN j#>>'{account,state}' = 'active' THEN 'charged; nothing pending'"
    "  ELSE '-' END AS \"why\","
    " j#>>'{source,billing}' AS \"billing\","
    " " TS("j#>>'{source,created_at}'") " AS \"created\","
    " coalesce(" TS("j#>>'{source,last_activity_at}'") ","
    "   CASE WHEN j->'source' IS NULL OR jsonb_typeof(j->'source') = 'null'"
    "        THEN 'not in the source table' ELSE 'never' END) AS \"last activity\","
    " (j#>>'{account,cycle}') || coalesce(' (rule ' || (j#>>'{account,rule}') || ')', '')"
    "   AS \"cycle\","
    " " TS("j#>>'{account,requested_at}'") " AS \"requested\","
    " " TS("j#>>'{account,delivered_at}'") " AS \"delivered\","
    " " TS("j#>>'{account,deadline}'") " AS \"deadline\","
    " j#>>'{account,reminders_sent}' AS \"reminders sent\","
    " " TS("j#>>'{account,suspended_at}'") " AS \"suspended\","
    " CASE WHEN jsonb_typeof(j->'exemption') = 'object' THEN"
    "   coalesce('until ' || " TS("j#>>'{exemption,until}'") ", 'indefinitely') || ': '"
    "   || (j#>>'{exemption,reason}') || ' (' || (j#>>'{exemption,actor}') || ')' END"
    "   AS \"exempt\""
    " FROM (SELECT $1::jsonb AS j) AS d";

static const char messages_sql[] =
    "SELECT m->>'id', m->>'type', " TS("m->>'created_at'") ","
    "  CASE WHEN m->>'delivered_at' IS NOT NULL THEN 'delivered ' || " TS("m->>'delivered_at'")
    "       WHEN m->>'dead_at' IS NOT NULL THEN 'DEAD ' || " TS("m->>'dead_at'")
    "       ELSE 'pending, next try ' || " TS("m->>'next_attempt_at'") " END,"
    "  m->>'attempts', m->>'last_error'"
    "  FROM jsonb_array_elements($1::jsonb->'messages') m";

static const char events_sql[] =
    "SELECT " TS("e->>'at'") ", e->>'kind', e->>'cycle', e->>'actor',"
    "  CASE WHEN e->'detail' = '{}' THEN NULL ELSE e->>'detail' END"
    "  FROM jsonb_array_elements($1::jsonb->'events') e";
/* clang-format on */

int dm_ctl_show(const struct dm_config *cfg, int argc, char **argv)
{
    bool json, in_source;
    const char *id;
    if (!dm_ctl_parse("show", argc, argv, NULL, &json, &id, 1, "ID [--json]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "show");
    if (rc != DM_EXIT_OK)
        return rc;
    PGresult *doc = NULL, *rec = NULL, *msg = NULL, *ev = NULL;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    const char *params[] = {id};
    doc = dm_ctl_query(&ctl, show_sql, 1, params, "reading subscriber", &rc);
    if (doc == NULL)
        goto out;
    const char *dparams[] = {PQgetvalue(doc, 0, 0)};
    if (json) {
        PGresult *p = dm_ctl_exec(&ctl, "SELECT jsonb_pretty($1::jsonb)", 1, dparams, "json", &rc);
        if (p != NULL)
            printf("%s\n", PQgetvalue(p, 0, 0));
        PQclear(p);
        goto out;
    }
    rec = dm_ctl_exec(&ctl, record_sql, 1, dparams, "formatting", &rc);
    msg = dm_ctl_exec(&ctl, messages_sql, 1, dparams, "formatting", &rc);
    ev = dm_ctl_exec(&ctl, events_sql, 1, dparams, "formatting", &rc);
    if (rec == NULL || msg == NULL || ev == NULL)
        goto out;
    printf("subscriber %s (times in UTC)\n", PQgetvalue(rec, 0, 0));
    dm_ctl_print_record(stdout, rec, "  ");
    printf("messages\n");
    static const char *const mt[] = {"ID", "TYPE", "CREATED", "DELIVERY", "ATTEMPTS", "LAST ERROR"};
    dm_ctl_print_table(stdout, msg, mt, "  ");
    printf("events\n");
    static const char *const et[] = {"AT", "KIND", "CYCLE", "ACTOR", "DETAIL"};
    dm_ctl_print_table(stdout, ev, et, "  ");
out:
    PQclear(doc);
    PQclear(rec);
    PQclear(msg);
    PQclear(ev);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_export(const struct dm_config *cfg, int argc, char **argv)
{
    bool json, in_source;
    const char *id;
    if (!dm_ctl_parse("export", argc, argv, NULL, &json, &id, 1, "ID [--json]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "export");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc == DM_EXIT_OK) {
        const char *params[] = {id};
        PGresult *r = dm_ctl_query(&ctl, export_sql, 1, params, "exporting", &rc);
        if (r != NULL)
            printf("%s\n", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    dm_ctl_close(&ctl);
    return rc;
}
