/* dormantctl's audited actions: pause, resume, backlog, rescan, exemptions, confirm. */
#include "ctl_actions.h"

#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "ctl_preview.h"
#include "ctl_util.h"
#include "guards.h"
#include "lifecycle.h"

/* Each action is one statement (lib/sql/ctl): the change and its audit
 * event commit together or not at all. */

/* Runs one action statement with the given parameters and returns its
 * result, or NULL with *rc set. */
static PGresult *act(struct dm_ctl *ctl, enum dm_sql_file f, const char *const *params,
                     const char *const *values, int *rc)
{
    return dm_ctl_query(ctl, f, params, values, "writing", rc);
}

int dm_ctl_pause(const struct dm_config *cfg, int argc, char **argv)
{
    const char *reason = "";
    const struct dm_ctl_flag flags[] = {{"reason", true, &reason}, {NULL, false, NULL}};
    if (!dm_ctl_parse("pause", argc, argv, flags, NULL, NULL, 0, "[--reason TEXT]"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "pause");
    if (rc != DM_EXIT_OK)
        return rc;
    static const char *const params[] = {"actor", "reason", NULL};
    const char *values[] = {ctl.actor, reason};
    PGresult *r = act(&ctl, DM_SQL_CTL_PAUSE, params, values, &rc);
    if (r != NULL) {
        if (strcmp(PQgetvalue(r, 0, 0), "1") == 0)
            printf("paused: every dormantd stops requests, reminders, suspensions, erasures and "
                   "deliveries within one poll interval; answers on the page are still "
                   "honoured. Undo with: dormantctl resume\n");
        else
            printf("already paused (by %s since %s)\n", PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_resume(const struct dm_config *cfg, int argc, char **argv)
{
    if (!dm_ctl_parse("resume", argc, argv, NULL, NULL, NULL, 0, ""))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "resume");
    if (rc != DM_EXIT_OK)
        return rc;
    static const char *const params[] = {"actor", NULL};
    const char *values[] = {ctl.actor};
    PGresult *r = act(&ctl, DM_SQL_CTL_RESUME, params, values, &rc);
    if (r != NULL)
        printf("%s\n", strcmp(PQgetvalue(r, 0, 0), "1") == 0
                           ? "resumed: the next pass and deliveries go ahead"
                           : "not paused; nothing to do");
    PQclear(r);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_accept_backlog(const struct dm_config *cfg, int argc, char **argv)
{
    if (!dm_ctl_parse("accept-backlog", argc, argv, NULL, NULL, NULL, 0, ""))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "accept-backlog");
    if (rc != DM_EXIT_OK)
        return rc;
    /* The backlog counted now, as preview and the next pass see it: a first
     * run is tripped before any pass has counted anything. */
    struct dm_lifecycle lc;
    struct dm_guards g;
    char err[512], count[32];
    PGresult *r = NULL;
    memset(&lc, 0, sizeof lc);
    if (!dm_lifecycle_build(cfg, &ctl.names, &lc, err, sizeof err)) {
        fprintf(stderr, "dormantctl accept-backlog: %s\n", err);
        rc = DM_EXIT_CONFIG;
        goto out;
    }
    if (!dm_ctl_read_guards(&ctl, &lc, &g, &rc))
        goto out;
    snprintf(count, sizeof count, "%lld", g.backlog);
    static const char *const params[] = {"actor", "count", NULL};
    const char *values[] = {ctl.actor, g.backlog_tripped ? count : NULL};
    r = act(&ctl, DM_SQL_CTL_ACCEPT_BACKLOG, params, values, &rc);
    if (r != NULL) {
        if (!PQgetisnull(r, 0, 0))
            printf("accepted a backlog of %s subscribers: the next passes request them "
                   "(at most limits.max_requests_per_day a day)\n",
                   PQgetvalue(r, 0, 0));
        else
            printf("the backlog guard is not tripped; nothing to accept\n");
    }
out:
    PQclear(r);
    dm_ctl_close(&ctl);
    dm_lifecycle_free(&lc);
    return rc;
}

int dm_ctl_rescan(const struct dm_config *cfg, int argc, char **argv)
{
    if (!dm_ctl_parse("rescan", argc, argv, NULL, NULL, NULL, 0, ""))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    int rc = dm_ctl_open(&ctl, cfg, "rescan");
    if (rc != DM_EXIT_OK)
        return rc;
    PGresult *r = act(&ctl, DM_SQL_CTL_RESCAN, NULL, NULL, &rc);
    if (r != NULL)
        printf("rescan requested: the next pass re-examines the whole source table\n");
    PQclear(r);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_exempt(const struct dm_config *cfg, int argc, char **argv)
{
    const char *until = NULL, *reason = NULL, *id;
    const struct dm_ctl_flag flags[] = {
        {"until", true, &until}, {"reason", true, &reason}, {NULL, false, NULL}};
    static const char usage[] = "ID [--until TIMESTAMP] --reason TEXT";
    if (!dm_ctl_parse("exempt", argc, argv, flags, NULL, &id, 1, usage))
        return DM_EXIT_USAGE;
    if (reason == NULL || reason[0] == '\0') {
        fprintf(stderr, "dormantctl exempt: --reason is required (usage: dormantctl exempt %s)\n",
                usage);
        return DM_EXIT_USAGE;
    }
    struct dm_ctl ctl;
    bool in_source;
    PGresult *r = NULL;
    int rc = dm_ctl_open(&ctl, cfg, "exempt");
    if (rc != DM_EXIT_OK)
        return rc;
    if (until != NULL) {
        static const char *const params[] = {"until", NULL};
        const char *values[] = {until};
        r = dm_ctl_query(&ctl, DM_SQL_CTL_UNTIL, params, values, "bad timestamp for --until", &rc);
        if (r == NULL)
            goto out;
        if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
            fprintf(stderr, "dormantctl exempt: --until %s is in the past\n", until);
            rc = DM_EXIT_DATAERR;
            goto out;
        }
        PQclear(r);
        r = NULL;
    }
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    if (!in_source) {
        fprintf(stderr, "dormantctl exempt: subscriber %s is no longer in %s\n", id,
                cfg->source.table);
        rc = DM_EXIT_DATAERR;
        goto out;
    }
    /* An exempt subscriber is never suspended: a pending request is closed
     * in the same transaction, as confirmed on their behalf, with the page's
     * own statement (the pass only keeps exempt subscribers from being
     * asked). */
    if (!dm_ctl_simple(&ctl, DM_SQL_TX_BEGIN)) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    static const char *const params[] = {"id", "until", "reason", "actor", NULL};
    const char *values[] = {id, until, reason, ctl.actor};
    r = act(&ctl, DM_SQL_CTL_EXEMPT, params, values, &rc);
    if (r == NULL)
        goto out;
    bool pending = strcmp(PQgetvalue(r, 0, 1), "pending") == 0;
    if (pending) {
        char why[600], err[1024];
        snprintf(why, sizeof why, "exempted: %s", reason);
        if (dm_answer_apply(ctl.conn, &ctl.names, DM_ANSWER_KEEP, id, ctl.actor, why, err,
                            sizeof err) == DM_ANSWER_FAILED) {
            err[strcspn(err, "\n")] = '\0';
            fprintf(stderr, "dormantctl exempt: closing the pending request: %s\n", err);
            rc = DM_EXIT_FAILURE;
            goto out;
        }
    }
    if (!dm_ctl_simple(&ctl, DM_SQL_TX_COMMIT)) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    printf("subscriber %s exempt %s%s\n", id, PQgetvalue(r, 0, 0),
           pending ? "; their pending request is closed as confirmed on their behalf" : "");
out:
    PQclear(r);
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_unexempt(const struct dm_config *cfg, int argc, char **argv)
{
    const char *id;
    if (!dm_ctl_parse("unexempt", argc, argv, NULL, NULL, &id, 1, "ID"))
        return DM_EXIT_USAGE;
    struct dm_ctl ctl;
    bool in_source;
    int rc = dm_ctl_open(&ctl, cfg, "unexempt");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc == DM_EXIT_OK) {
        static const char *const params[] = {"id", "actor", NULL};
        const char *values[] = {id, ctl.actor};
        PGresult *r = act(&ctl, DM_SQL_CTL_UNEXEMPT, params, values, &rc);
        if (r != NULL)
            printf("%s %s\n",
                   strcmp(PQgetvalue(r, 0, 0), "1") == 0 ? "exemption removed for subscriber"
                                                         : "no exemption to remove for subscriber",
                   id);
        PQclear(r);
    }
    dm_ctl_close(&ctl);
    return rc;
}

int dm_ctl_confirm(const struct dm_config *cfg, int argc, char **argv)
{
    const char *reason = NULL, *id;
    const struct dm_ctl_flag flags[] = {{"reason", true, &reason}, {NULL, false, NULL}};
    static const char usage[] = "ID --reason TEXT";
    if (!dm_ctl_parse("confirm", argc, argv, flags, NULL, &id, 1, usage))
        return DM_EXIT_USAGE;
    if (reason == NULL || reason[0] == '\0') {
        fprintf(stderr, "dormantctl confirm: --reason is required (usage: dormantctl confirm %s)\n",
                usage);
        return DM_EXIT_USAGE;
    }
    struct dm_ctl ctl;
    bool in_source;
    int rc = dm_ctl_open(&ctl, cfg, "confirm");
    if (rc != DM_EXIT_OK)
        return rc;
    rc = dm_ctl_find_subscriber(&ctl, id, &in_source);
    if (rc != DM_EXIT_OK)
        goto out;
    /* The page's own statement (lib/answer.c), with the operator as actor. */
    char err[1024];
    enum dm_answer_result res = dm_answer_apply(ctl.conn, &ctl.names, DM_ANSWER_KEEP, id, ctl.actor,
                                                reason, err, sizeof err);
    if (res == DM_ANSWER_APPLIED) {
        printf("confirmed for subscriber %s: active again, request closed\n", id);
    } else if (res == DM_ANSWER_NOT_PENDING) {
        static const char *const params[] = {"id", NULL};
        const char *values[] = {id};
        PGresult *r = dm_ctl_query(&ctl, DM_SQL_CTL_STATE, params, values, "reading state", &rc);
        if (r != NULL) {
            fprintf(stderr, "dormantctl confirm: subscriber %s has no pending request (%s)\n", id,
                    PQgetvalue(r, 0, 0));
            rc = DM_EXIT_DATAERR;
        }
        PQclear(r);
    } else {
        err[strcspn(err, "\n")] = '\0';
        fprintf(stderr, "dormantctl confirm: %s\n", err);
        rc = PQstatus(ctl.conn) == CONNECTION_BAD ? DM_EXIT_UNAVAILABLE : DM_EXIT_FAILURE;
    }
out:
    dm_ctl_close(&ctl);
    return rc;
}
