/* dormantctl's audited actions: pause, resume, backlog, rescan, exemptions, confirm. */
#include "ctl_actions.h"

#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "ctl_util.h"

/* Each action is one statement: the change and its audit event commit
 * together or not at all. The final SELECT sees the rows as they were
 * before the statement, which is what the "already ..." messages need. */

static const char pause_sql[] =
    "WITH u AS (UPDATE @S@.control SET paused = true, paused_by = $1, paused_at = now()"
    "            WHERE NOT paused RETURNING paused_at),"
    " e AS (INSERT INTO @S@.event (kind, actor, detail)"
    "       SELECT 'paused', $1, CASE WHEN $2 = '' THEN '{}'::jsonb"
    "              ELSE jsonb_build_object('reason', $2::text) END FROM u)"
    " SELECT (SELECT count(*) FROM u), c.paused_by,"
    "        to_char(c.paused_at, 'YYYY-MM-DD HH24:MI:SS\"Z\"') FROM @S@.control c";

static const char resume_sql[] =
    "WITH u AS (UPDATE @S@.control SET paused = false WHERE paused RETURNING paused_by),"
    " e AS (INSERT INTO @S@.event (kind, actor, detail)"
    "       SELECT 'unpaused', $1, jsonb_build_object('paused_by', u.paused_by) FROM u)"
    " SELECT (SELECT count(*) FROM u)";

/* Accepts exactly the backlog the engine last counted (guards.backlog);
 * a later, larger backlog trips the guard again. */
static const char accept_sql[] =
    "WITH g AS (SELECT guards->'backlog' AS b FROM @S@.control),"
    " u AS (UPDATE @S@.control SET backlog_accepted = (g.b->>'count')::integer,"
    "              backlog_accepted_at = now()"
    "         FROM g WHERE jsonb_typeof(g.b) = 'object'"
    "          AND coalesce((g.b->>'tripped')::boolean, false)"
    "       RETURNING backlog_accepted),"
    " e AS (INSERT INTO @S@.event (kind, actor, detail)"
    "       SELECT 'backlog_accepted', $1, jsonb_build_object('count', u.backlog_accepted) FROM u)"
    " SELECT (SELECT backlog_accepted FROM u), (SELECT b::text FROM g)";

static const char rescan_sql[] = "UPDATE @S@.control SET rescan = true";

/* Validates --until: a timestamp in the future ($1). */
static const char until_sql[] = "SELECT $1::timestamptz > now()";

static const char exempt_sql[] =
    "WITH x AS (INSERT INTO @S@.exemption (subscriber_id, until, reason, actor)"
    "           VALUES ($1::@T@, $2::timestamptz, $3, $4)"
    "           ON CONFLICT (subscriber_id) DO UPDATE SET until = EXCLUDED.until,"
    "             reason = EXCLUDED.reason, actor = EXCLUDED.actor, created_at = now()"
    "           RETURNING subscriber_id, until),"
    " e AS (INSERT INTO @S@.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT x.subscriber_id, 'exempted',"
    "              (SELECT cycle FROM @S@.account WHERE subscriber_id = x.subscriber_id), $4,"
    "              jsonb_build_object('until', x.until, 'reason', $3::text) FROM x)"
    " SELECT coalesce('until ' || to_char(x.until, 'YYYY-MM-DD HH24:MI:SS\"Z\"'),"
    "                 'indefinitely'),"
    "        (SELECT state FROM @S@.account WHERE subscriber_id = x.subscriber_id)"
    "   FROM x";

static const char unexempt_sql[] =
    "WITH d AS (DELETE FROM @S@.exemption WHERE subscriber_id = $1::@T@"
    "           RETURNING subscriber_id, reason, until),"
    " e AS (INSERT INTO @S@.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT d.subscriber_id, 'unexempted',"
    "              (SELECT cycle FROM @S@.account WHERE subscriber_id = d.subscriber_id), $2,"
    "              jsonb_build_object('reason_was', d.reason, 'until_was', d.until) FROM d)"
    " SELECT count(*) FROM d";

/* The state of one subscriber's account, for "nothing to confirm" messages. */
static const char state_sql[] =
    "SELECT coalesce((SELECT state FROM @S@.account WHERE subscriber_id = $1::@T@),"
    " 'never asked')";

/* Runs one action statement with the given parameters and returns its
 * result, or NULL with *rc set. */
static PGresult *act(struct dm_ctl *ctl, const char *sql, int n, const char *const *params, int *rc)
{
    return dm_ctl_query(ctl, sql, n, params, "writing", rc);
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
    const char *params[] = {ctl.actor, reason};
    PGresult *r = act(&ctl, pause_sql, 2, params, &rc);
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
    const char *params[] = {ctl.actor};
    PGresult *r = act(&ctl, resume_sql, 1, params, &rc);
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
    const char *params[] = {ctl.actor};
    PGresult *r = act(&ctl, accept_sql, 1, params, &rc);
    if (r != NULL) {
        if (!PQgetisnull(r, 0, 0))
            printf("accepted a backlog of %s subscribers: the next passes request them "
                   "(at most limits.max_requests_per_day a day)\n",
                   PQgetvalue(r, 0, 0));
        else
            printf("the backlog guard is not tripped; nothing to accept\n");
    }
    PQclear(r);
    dm_ctl_close(&ctl);
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
    PGresult *r = act(&ctl, rescan_sql, 0, NULL, &rc);
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
        const char *p[] = {until};
        r = dm_ctl_exec(&ctl, until_sql, 1, p, "bad timestamp for --until", &rc);
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
    if (!dm_ctl_simple(&ctl, "BEGIN")) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    const char *params[] = {id, until, reason, ctl.actor};
    r = act(&ctl, exempt_sql, 4, params, &rc);
    if (r == NULL)
        goto out;
    bool pending = strcmp(PQgetvalue(r, 0, 1), "pending") == 0;
    if (pending) {
        char why[600], err[1024];
        snprintf(why, sizeof why, "exempted: %s", reason);
        if (dm_answer_apply(ctl.conn, cfg, DM_ANSWER_KEEP, id, ctl.actor, why, err, sizeof err) ==
            DM_ANSWER_FAILED) {
            err[strcspn(err, "\n")] = '\0';
            fprintf(stderr, "dormantctl exempt: closing the pending request: %s\n", err);
            rc = DM_EXIT_FAILURE;
            goto out;
        }
    }
    if (!dm_ctl_simple(&ctl, "COMMIT")) {
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
        const char *params[] = {id, ctl.actor};
        PGresult *r = act(&ctl, unexempt_sql, 2, params, &rc);
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
    enum dm_answer_result res =
        dm_answer_apply(ctl.conn, cfg, DM_ANSWER_KEEP, id, ctl.actor, reason, err, sizeof err);
    if (res == DM_ANSWER_APPLIED) {
        printf("confirmed for subscriber %s: active again, request closed\n", id);
    } else if (res == DM_ANSWER_NOT_PENDING) {
        const char *params[] = {id};
        PGresult *r = dm_ctl_query(&ctl, state_sql, 1, params, "reading state", &rc);
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
