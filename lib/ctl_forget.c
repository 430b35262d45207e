/* dormantctl forget: the right to erasure (GDPR art. 17), now. */
#include "ctl_forget.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "ctl_util.h"
#include "sql.h"

/* ctl/forget.sql, which wipes what the erasure step wipes: the same
 * fragment (lifecycle/erase_wipe.sql) is composed into both. */
static PGresult *forget(struct dm_ctl *ctl, const char *const *params, const char *const *values,
                        int *rc)
{
    const struct dm_sql_slot wipe[] = {{"ERASE_WIPE", dm_sql(DM_SQL_LIFECYCLE_ERASE_WIPE)}};
    char *tmpl = dm_sql_compose(dm_sql(DM_SQL_CTL_FORGET), wipe, 1);
    const char *bound[DM_SQL_MAX_PARAMS];
    struct dm_stmt st;
    dm_sql_render(&st, tmpl, &ctl->names, params);
    dm_stmt_bind(&st, values, bound);
    PGresult *r = dm_ctl_exec(ctl, st.sql, st.nparams, bound, "forgetting", rc);
    dm_stmt_free(&st);
    free(tmpl);
    return r;
}

int dm_ctl_forget(const struct dm_config *cfg, int argc, char **argv)
{
    const char *reason = NULL, *id;
    const struct dm_ctl_flag flags[] = {{"reason", true, &reason}, {NULL, false, NULL}};
    static const char usage[] = "ID --reason TEXT";
    if (!dm_ctl_parse("forget", argc, argv, flags, NULL, &id, 1, usage))
        return DM_EXIT_USAGE;
    if (reason == NULL || reason[0] == '\0') {
        fprintf(stderr, "dormantctl forget: --reason is required (usage: dormantctl forget %s)\n",
                usage);
        return DM_EXIT_USAGE;
    }
    struct dm_ctl ctl;
    bool in_source;
    PGresult *r = NULL, *src = NULL;
    int rc = dm_ctl_open(&ctl, cfg, "forget");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    if (!dm_ctl_simple(&ctl, DM_SQL_TX_BEGIN)) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    static const char *const params[] = {"id", "reason", "actor", NULL};
    const char *values[] = {id, reason, ctl.actor};
    r = forget(&ctl, params, values, &rc);
    if (r == NULL)
        goto out;
    if (in_source && cfg->policy.erase_columns.n > 0) {
        src = dm_ctl_query(&ctl, DM_SQL_CTL_FORGET_SOURCE, params, values,
                           "erasing policy.erase_columns", &rc);
        if (src == NULL)
            goto out;
    }
    if (!dm_ctl_simple(&ctl, DM_SQL_TX_COMMIT)) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    printf("subscriber %s forgotten: %s message payloads and %s event details erased%s; "
           "billing left as it is; dormant will not ask them again\n",
           id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
           src != NULL ? ", and policy.erase_columns in the source" : "");
out:
    PQclear(r);
    PQclear(src);
    dm_ctl_close(&ctl);
    return rc;
}
