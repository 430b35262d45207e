/* dormantctl show and export: one subscriber's story, and all dormant holds. */
#include "ctl_subscriber.h"

#include <stdlib.h>

#include "ctl_util.h"

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
    static const char *const params[] = {"id", NULL};
    const char *values[] = {id};
    doc = dm_ctl_query(&ctl, DM_SQL_CTL_SHOW, params, values, "reading subscriber", &rc);
    if (doc == NULL)
        goto out;
    static const char *const dparams[] = {"doc", NULL};
    const char *dvalues[] = {PQgetvalue(doc, 0, 0)};
    if (json) {
        PGresult *p = dm_ctl_query(&ctl, DM_SQL_CTL_JSON_PRETTY, dparams, dvalues, "json", &rc);
        if (p != NULL)
            printf("%s\n", PQgetvalue(p, 0, 0));
        PQclear(p);
        goto out;
    }
    rec = dm_ctl_query(&ctl, DM_SQL_CTL_SHOW_RECORD, dparams, dvalues, "formatting", &rc);
    msg = dm_ctl_query(&ctl, DM_SQL_CTL_SHOW_MESSAGES, dparams, dvalues, "formatting", &rc);
    ev = dm_ctl_query(&ctl, DM_SQL_CTL_SHOW_EVENTS, dparams, dvalues, "formatting", &rc);
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
        static const char *const params[] = {"id", NULL};
        const char *values[] = {id};
        PGresult *r = dm_ctl_query(&ctl, DM_SQL_CTL_EXPORT, params, values, "exporting", &rc);
        if (r != NULL)
            printf("%s\n", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    dm_ctl_close(&ctl);
    return rc;
}
