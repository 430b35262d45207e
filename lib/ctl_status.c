/* dormantctl status: the whole deployment at a glance. */
#include "ctl_status.h"

#include <stdlib.h>

#include "config.h"
#include "ctl_util.h"

int dm_ctl_status(const struct dm_config *cfg, int argc, char **argv)
{
    bool json;
    if (!dm_ctl_parse("status", argc, argv, NULL, &json, NULL, 0, "[--json]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "status");
    if (rc != DM_EXIT_OK)
        return rc;
    /* One document (lib/sql/ctl/status.sql); the readable view is derived
     * from it, so the two never disagree. */
    PGresult *doc = dm_ctl_query(&ctl, DM_SQL_CTL_STATUS, NULL, NULL, "reading status", &rc);
    if (doc == NULL)
        goto out;
    static const char *const params[] = {"doc", NULL};
    const char *values[] = {PQgetvalue(doc, 0, 0)};
    if (json) {
        PGresult *p = dm_ctl_query(&ctl, DM_SQL_CTL_JSON_PRETTY, params, values, "json", &rc);
        if (p != NULL)
            printf("%s\n", PQgetvalue(p, 0, 0));
        PQclear(p);
        PQclear(doc);
        goto out;
    }
    PGresult *sum =
        dm_ctl_query(&ctl, DM_SQL_CTL_STATUS_SUMMARY, params, values, "formatting status", &rc);
    PGresult *acc =
        dm_ctl_query(&ctl, DM_SQL_CTL_STATUS_ACCOUNTS, params, values, "formatting status", &rc);
    PGresult *grd =
        dm_ctl_query(&ctl, DM_SQL_CTL_STATUS_GUARDS, params, values, "formatting status", &rc);
    PGresult *ins =
        dm_ctl_query(&ctl, DM_SQL_CTL_STATUS_INSTANCES, params, values, "formatting status", &rc);
    PGresult *ver =
        dm_ctl_query(&ctl, DM_SQL_CTL_STATUS_VERDICT, params, values, "formatting status", &rc);
    if (sum != NULL && acc != NULL && grd != NULL && ins != NULL && ver != NULL) {
        /* Three lines first, like systemctl status: is anything wrong, what,
         * and the command to run. */
        printf("dormant: %s\n  act on: %s\n  run:    %s\n", PQgetvalue(ver, 0, 0),
               PQgetvalue(ver, 0, 1), PQgetvalue(ver, 0, 2));
        printf("dormant status (schema %s; times in UTC)\n", cfg->database.schema);
        dm_ctl_print_record(stdout, sum, "  ");
        /* Not the source's size: an account exists only once a pass asked. */
        printf("accounts (only subscribers dormant has touched; the rest of %s is not "
               "counted)\n",
               cfg->source.table);
        static const char *const acc_titles[] = {"STATE", "SUBSCRIBERS"};
        dm_ctl_print_table(stdout, acc, acc_titles, "  ");
        printf("guards\n");
        static const char *const grd_titles[] = {"GUARD", "STATE", "DETAIL"};
        dm_ctl_print_table(stdout, grd, grd_titles, "  ");
        printf("instances\n");
        static const char *const ins_titles[] = {"INSTANCE", "PROCESS",   "VERSION", "ROLE",
                                                 "PAUSED",   "LAST SEEN", "STATE",   "DISABLED"};
        dm_ctl_print_table(stdout, ins, ins_titles, "  ");
    }
    PQclear(ins);
    PQclear(sum);
    PQclear(acc);
    PQclear(grd);
    PQclear(ver);
    PQclear(doc);
out:
    dm_ctl_close(&ctl);
    return rc;
}
