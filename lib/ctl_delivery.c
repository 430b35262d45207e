/* dormantctl's delivery repairs: resend a request, report a bounce. */
#include "ctl_delivery.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl_util.h"
#include "token.h"

/* Says on stderr why subscriber id has nothing to resend or bounce; 65. */
static int explain(struct dm_ctl *ctl, const char *id, bool resend)
{
    static const char *const params[] = {"id", NULL};
    const char *values[] = {id};
    int rc = DM_EXIT_DATAERR;
    PGresult *r = dm_ctl_query(ctl, DM_SQL_CTL_REQUEST_STATE, params, values, "reading state", &rc);
    if (r == NULL)
        return rc;
    const char *state = PQgetvalue(r, 0, 0);
    if (strcmp(state, "pending") != 0)
        fprintf(stderr, "dormantctl %s: subscriber %s is not waiting for an answer (%s)\n",
                ctl->cmd, id, state);
    else if (resend && !PQgetisnull(r, 0, 1))
        fprintf(stderr,
                "dormantctl resend: the request to subscriber %s was delivered at %s and their "
                "deadline runs; if it bounced, record that first: dormantctl bounced %s\n",
                id, PQgetvalue(r, 0, 1), id);
    else
        fprintf(stderr,
                "dormantctl %s: subscriber %s has no delivered request or reminder in their "
                "pending cycle\n",
                ctl->cmd, id);
    PQclear(r);
    return DM_EXIT_DATAERR;
}

int dm_ctl_resend(const struct dm_config *cfg, int argc, char **argv)
{
    const char *id;
    if (!dm_ctl_parse("resend", argc, argv, NULL, NULL, &id, 1, "ID"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    bool in_source;
    int rc = dm_ctl_open(&ctl, cfg, "resend");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    char token[DM_TOKEN_SIZE], hash[DM_TOKEN_HASH_HEX_SIZE], url[2048];
    if (!dm_token_new(token)) {
        fprintf(stderr, "dormantctl resend: the system's random source failed\n");
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    dm_token_hash_hex(token, hash);
    snprintf(url, sizeof url, "%s/c/%s", cfg->http.public_url, token);
    static const char *const params[] = {"id", "url", "hash", "actor", NULL};
    const char *values[] = {id, url, hash, ctl.actor};
    PGresult *r = dm_ctl_query(&ctl, DM_SQL_CTL_RESEND, params, values, "writing", &rc);
    if (r != NULL && PQntuples(r) == 1)
        printf("subscriber %s: a new request is queued as message %s, with a new link, to the "
               "address the source holds when it is sent; their deadline starts when it is "
               "delivered\n",
               id, PQgetvalue(r, 0, 0));
    else if (r != NULL)
        rc = explain(&ctl, id, true);
    PQclear(r);
out:
    memset(token, 0, sizeof token);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_bounced(const struct dm_config *cfg, int argc, char **argv)
{
    const char *reason = "", *id;
    const struct dm_ctl_flag flags[] = {{"reason", true, &reason}, {NULL, false, NULL}};
    if (!dm_ctl_parse("bounced", argc, argv, flags, NULL, &id, 1, "ID [--reason TEXT]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    bool in_source;
    int rc = dm_ctl_open(&ctl, cfg, "bounced");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    static const char *const params[] = {"id", "reason", NULL};
    const char *values[] = {id, reason};
    PGresult *r = dm_ctl_query(&ctl, DM_SQL_CTL_BOUNCED, params, values, "writing", &rc);
    if (r != NULL && PQntuples(r) == 1)
        printf("subscriber %s: message %s %s; no deadline runs and they show as undeliverable "
               "until a new request is delivered (fix the address, then: dormantctl resend %s)\n",
               id, PQgetvalue(r, 0, 0),
               strcmp(PQgetvalue(r, 0, 1), "t") == 0 ? "recorded as bounced"
                                                     : "was already recorded as bounced",
               id);
    else if (r != NULL)
        rc = explain(&ctl, id, false);
    PQclear(r);
out:
    dm_ctl_close(&ctl);
    return rc;
}
