/* The lifecycle rules as SQL: every statement a pass runs, built from the configuration. */
#include "lifecycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "interval.h"
#include "schema.h"
#include "strbuf.h"

/*
 * How the statements are written. Templates below use placeholders that
 * build() replaces once per configuration:
 *
 *   {S}          the quoted dormant schema       {SRC}    the quoted source table (alias s)
 *   {ID} {EMAIL} {LA} {CREATED} {BILLING}        quoted source columns
 *   {LOCALE}     s.<locale>::text, or NULL::text when no column is mapped
 *   {ELIGIBLE}   (source.eligible), or true
 *   {ERASE_SET}  "col" = NULL, ... for policy.erase_columns
 *   {SEQ}        literal naming the outbox id sequence
 *   $(name)      a parameter: becomes $n with its type cast (see params[])
 *
 * Every writing statement moves one batch and its events and messages
 * together (data-modifying CTEs: one statement, one transaction), and
 * checks the state it moves from in its UPDATE, so that a batch repeated
 * after a crash, or run by a second instance, finds nothing left to do.
 */

/* Parameter names as written in templates, and their SQL casts. */
static const struct {
    const char *name;
    const char *cast;
} params[DM_P_COUNT] = {
    [DM_P_INACTIVE] = {"inactive", "::interval"},
    [DM_P_NEVER] = {"never", "::interval"},
    [DM_P_MIN_AGE] = {"min_age", "::interval"},
    [DM_P_CONFIRM] = {"confirm", "::interval"},
    [DM_P_REMINDERS] = {"reminders", "::interval[]"},
    [DM_P_ERASE] = {"erase", "::interval"},
    [DM_P_LAG] = {"lag", "::interval"},
    [DM_P_ACTIVE] = {"active", ""}, /* typed by the billing column it meets */
    [DM_P_SUSPENDED] = {"suspended", ""},
    [DM_P_URL] = {"url", "::text"},
    [DM_P_WRITE] = {"write", "::boolean"},
    [DM_P_MARK_TS] = {"mark_ts", "::timestamptz"},
    [DM_P_MARK_ID] = {"mark_id", ""}, /* typed by the source id it meets */
    [DM_P_LIMIT] = {"limit", "::integer"},
    [DM_P_TOKENS] = {"tokens", "::text[]"},
};

const char *const dm_step_names[DM_STEP_COUNT] = {
    [DM_STEP_RESCHEDULE] = "reschedule",
    [DM_STEP_RESUME] = "resume",
    [DM_STEP_REACTIVATE] = "reactivate",
    [DM_STEP_REQUEST_RECHECK] = "request_recheck",
    [DM_STEP_REQUEST_INACTIVE] = "request_inactive",
    [DM_STEP_REQUEST_NEVER] = "request_never_active",
    [DM_STEP_REMIND] = "remind",
    [DM_STEP_SUSPEND] = "suspend",
    [DM_STEP_ERASE] = "erase",
};

/* ISO 8601 UTC text of a timestamptz expression, as messages carry it. */
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* ---- the request steps: three ways to find candidates, one decision ---- */

/* Candidates of the inactive rule: source rows whose activity crossed the
 * threshold since the watermark (activity, id), oldest inactivity first.
 * %s is the LIMIT clause. */
static const char raw_inactive[] =
    "mk AS (SELECT CASE WHEN rescan THEN NULL ELSE inactive_mark END AS ts,"
    "              CASE WHEN rescan THEN NULL ELSE inactive_mark_id END AS id FROM {S}.control),"
    "raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, s.{LA}::timestamptz AS la,"
    "               s.{CREATED}::timestamptz AS created, {LOCALE} AS locale,"
    "               coalesce(s.{BILLING} = $(active), false) AS billing_ok,"
    "               coalesce(({ELIGIBLE}), false) AS elig,"
    "               'inactive'::text AS rule, s.{LA}::timestamptz AS ord"
    "          FROM {SRC} s"
    "         WHERE s.{LA} >= coalesce(@MTS@, '-infinity')"
    "           AND (s.{LA} > @MTS@ OR s.{ID} > @MID@"
    "                OR @MTS@ IS NULL)"
    "           AND s.{LA} <= now() - $(inactive)"
    "         ORDER BY s.{LA}, s.{ID} %s),";

/* Candidates of the never-active rule, over the created_at watermark. */
static const char raw_never[] =
    "mk AS (SELECT CASE WHEN rescan THEN NULL ELSE created_mark END AS ts,"
    "              CASE WHEN rescan THEN NULL ELSE created_mark_id END AS id FROM {S}.control),"
    "raw AS (SELECT s.{ID} AS id, s.{EMAIL}::text AS email, s.{LA}::timestamptz AS la,"
    "               s.{CREATED}::timestamptz AS created, {LOCALE} AS locale,"
    "               coalesce(s.{BILLING} = $(active), false) AS billing_ok,"
    "               coalesce(({ELIGIBLE}), false) AS elig,"
    "               'never_active'::text AS rule, s.{CREATED}::timestamptz AS ord"
    "          FROM {SRC} s"
    "         WHERE s.{LA} IS NULL"
    "           AND s.{CREATED} >= coalesce(@MTS@, '-infinity')"
    "           AND (s.{CREATED} > @MTS@ OR s.{ID} > @MID@"
    "                OR @MTS@ IS NULL)"
    "           AND s.{CREATED} <= now() - $(never) AND s.{CREATED} <= now() - $(min_age)"
    "         ORDER BY s.{CREATED}, s.{ID} %s),";

/* Accounts whose recheck time came (confirmed, exempt until, too young). */
static const char raw_recheck[] =
    "raw AS (SELECT a.subscriber_id AS id, s.{EMAIL}::text AS email,"
    "               s.{LA}::timestamptz AS la, s.{CREATED}::timestamptz AS created,"
    "               {LOCALE} AS locale,"
    "               coalesce(s.{BILLING} = $(active), false) AS billing_ok,"
    "               coalesce(({ELIGIBLE}), false) AS elig,"
    "               CASE WHEN s.{LA} IS NULL THEN 'never_active' ELSE 'inactive' END AS rule,"
    "               a.recheck_at AS ord"
    "          FROM {S}.account a LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id"
    "         WHERE a.state = 'active' AND a.recheck_at <= now()"
    "         ORDER BY a.recheck_at, a.subscriber_id %s),";

/* The decision for each candidate: request now, look again later (with
 * when), or skip. Shared by the writing, preview and count statements. */
static const char decide[] =
    "cand AS (SELECT r.*, a.state AS astate, a.confirmed_at,"
    "                e.subscriber_id IS NOT NULL AND (e.until IS NULL OR e.until > now()) AS "
    "exempt,"
    "                CASE WHEN e.until > now() THEN e.until END AS exempt_until,"
    "                CASE r.rule WHEN 'inactive' THEN $(inactive) ELSE $(never) END AS after"
    "           FROM raw r"
    "           LEFT JOIN LATERAL (SELECT * FROM {S}.account a"
    "                               WHERE a.subscriber_id = r.id OFFSET 0) a ON true"
    "           LEFT JOIN LATERAL (SELECT * FROM {S}.exemption e"
    "                               WHERE e.subscriber_id = r.id OFFSET 0) e ON true),"
    "dec AS (SELECT c.*,"
    "               CASE WHEN NOT c.billing_ok OR NOT c.elig OR c.after IS NULL THEN 'skip'"
    "                    WHEN c.astate IS NOT NULL AND c.astate <> 'active' THEN 'skip'"
    "                    WHEN coalesce(c.la, c.created) > now() - c.after THEN 'skip'"
    "                    WHEN c.exempt AND c.exempt_until IS NULL THEN 'skip'"
    "                    WHEN c.exempt OR c.created > now() - $(min_age)"
    "                         OR c.confirmed_at > now() - c.after THEN 'later'"
    "                    ELSE 'request' END AS decision,"
    "               greatest(c.exempt_until, c.created + $(min_age), c.confirmed_at + c.after)"
    "                 AS later_at"
    "          FROM cand c)";

/* Writes a batch of requests: account, token, event, message. %s is what
 * else the variant writes (watermark or recheck bookkeeping). */
static const char request_write[] =
    ","
    "pick AS (SELECT d.*, t.tok, nextval({SEQ}) AS outbox_id"
    "           FROM (SELECT d.*, row_number() OVER (ORDER BY d.ord, d.id) AS n"
    "                   FROM dec d WHERE d.decision = 'request') d"
    "           JOIN unnest($(tokens)) WITH ORDINALITY AS t(tok, n) ON t.n = d.n),"
    "acc AS (INSERT INTO {S}.account AS a (subscriber_id, state, cycle, rule, requested_at,"
    "                                      request_outbox_id, updated_at)"
    "        SELECT p.id, 'pending', 1, p.rule, now(), p.outbox_id, now() FROM pick p"
    "        ON CONFLICT (subscriber_id) DO UPDATE"
    "           SET state = 'pending', cycle = a.cycle + 1, rule = EXCLUDED.rule,"
    "               requested_at = now(), request_outbox_id = EXCLUDED.request_outbox_id,"
    "               delivered_at = NULL, deadline = NULL, reminders_sent = 0,"
    "               next_reminder_at = NULL, suspended_at = NULL, confirmed_at = NULL,"
    "               recheck_at = NULL, updated_at = now()"
    "         WHERE a.state = 'active'"
    "        RETURNING a.subscriber_id, a.cycle),"
    "ok AS (SELECT p.*, acc.cycle FROM pick p JOIN acc ON acc.subscriber_id = p.id),"
    "tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)"
    "        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT ok.id, 'requested', ok.cycle, 'daemon',"
    "              jsonb_build_object('rule', ok.rule, 'after', ok.after::text,"
    "                                 'last_activity_at', ok.la, 'created_at', ok.created,"
    "                                 'min_account_age', $(min_age)::text)"
    "         FROM ok),"
    "msg AS (INSERT INTO {S}.outbox (id, type, subscriber_id, cycle, payload)"
    "        SELECT ok.outbox_id, 'confirmation.requested', ok.id, ok.cycle,"
    "               jsonb_build_object('type', 'confirmation.requested',"
    "                 'timestamp', " TS(
        "now()") ","
                 "                 'data', jsonb_build_object('subscriber_id', ok.id::text,"
                 "                   'email', ok.email, 'locale', ok.locale,"
                 "                   'confirm_url', $(url) || '/c/' || ok.tok,"
                 "                   'last_activity_at', " TS(
                     "ok.la") ", 'rule', ok.rule))"
                              "          FROM ok RETURNING 1),"
                              "later AS (INSERT INTO {S}.account AS a (subscriber_id, recheck_at)"
                              "          SELECT d.id, CASE WHEN d.decision = 'later' THEN "
                              "d.later_at END FROM dec d"
                              "           WHERE d.decision = 'later' OR (d.decision = 'skip' AND "
                              "d.astate = 'active' AND %s)"
                              "          ON CONFLICT (subscriber_id) DO UPDATE"
                              "             SET recheck_at = EXCLUDED.recheck_at,"
                              "                 confirmed_at = CASE WHEN EXCLUDED.recheck_at IS "
                              "NULL THEN NULL"
                              "                                     ELSE a.confirmed_at END,"
                              "                 updated_at = now()"
                              "           WHERE a.state = 'active')"
                              "%s"
                              " SELECT (SELECT count(*) FROM acc) AS moved,"
                              "        (SELECT count(*) FROM raw) < $(limit) AS done,"
                              "        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', "
                              "'') FROM msg LIMIT 1) x)"
                              "          AS notified%s";

/* Watermark updates: when the batch was short, everything up to the
 * threshold has been looked at; otherwise up to the batch's last row. */
static const char mark_inactive[] =
    ",last_raw AS (SELECT ord, id FROM raw ORDER BY ord DESC, id DESC LIMIT 1),"
    "newmark AS (SELECT CASE WHEN (SELECT count(*) FROM raw) < $(limit) THEN now() - $(inactive)"
    "                        ELSE (SELECT ord FROM last_raw) END AS ts,"
    "                   CASE WHEN (SELECT count(*) FROM raw) < $(limit) THEN NULL"
    "                        ELSE (SELECT id FROM last_raw) END AS id),"
    "mark AS (UPDATE {S}.control SET inactive_mark = (SELECT ts FROM newmark),"
    "                                inactive_mark_id = (SELECT id FROM newmark))";
static const char mark_never[] =
    ",last_raw AS (SELECT ord, id FROM raw ORDER BY ord DESC, id DESC LIMIT 1),"
    "newmark AS (SELECT CASE WHEN (SELECT count(*) FROM raw) < $(limit)"
    "                        THEN least(now() - $(never), now() - $(min_age))"
    "                        ELSE (SELECT ord FROM last_raw) END AS ts,"
    "                   CASE WHEN (SELECT count(*) FROM raw) < $(limit) THEN NULL"
    "                        ELSE (SELECT id FROM last_raw) END AS id),"
    "mark AS (UPDATE {S}.control SET created_mark = (SELECT ts FROM newmark),"
    "                                created_mark_id = (SELECT id FROM newmark))";
/* The new watermark, returned so that the next batch is planned with it. */
static const char mark_columns[] =
    ", (SELECT ts::text FROM newmark) AS mark_ts, (SELECT id::text FROM newmark) AS mark_id";

/* What a preview row says for a request candidate. */
static const char request_preview[] =
    " SELECT d.id::text AS subscriber_id, 'request'::text AS action, d.rule,"
    "        CASE d.rule WHEN 'inactive' THEN 'no activity since ' || " TS(
        "d.la") ""
                "             ELSE 'never active; created ' || " TS(
                    "d.created") " END AS reason,"
                                 "        d.ord AS since"
                                 "   FROM dec d WHERE d.decision = 'request' ORDER BY d.ord, d.id "
                                 "LIMIT $(limit)";
static const char request_count[] = " SELECT count(*) FROM dec d WHERE d.decision = 'request'";

/* ---- resume ---- */

/* (OFFSET 0 keeps a LATERAL lookup a per-row index probe: pulled up into a
 * join, the planner may hash the whole account table on a guessed
 * selectivity of the watermark, and the cost would follow the table.)
 *
 * Pending subscribers with activity newer than their request: those seen
 * active since the activity watermark (the newest activity the last pass
 * saw), and those about to be reminded or suspended, checked whatever the
 * mark. An activity written late, with a time older than the mark, is thus
 * still honoured, at the latest before the next reminder or the deadline;
 * the remind and suspend statements check activity themselves as well. */
static const char resume_due[] =
    "WITH mk AS (SELECT activity_mark FROM {S}.control),"
    "due AS (SELECT * FROM ("
    "  SELECT a.subscriber_id AS id, a.cycle, a.requested_at, s.{LA}::timestamptz AS la"
    "    FROM {SRC} s CROSS JOIN LATERAL"
    "         (SELECT * FROM {S}.account a WHERE a.subscriber_id = s.{ID}"
    "             AND a.state = 'pending' AND s.{LA} > a.requested_at OFFSET 0) a"
    "   WHERE s.{LA} > coalesce((SELECT activity_mark FROM mk), '-infinity')"
    "     AND EXISTS (SELECT 1 FROM {S}.account WHERE state = 'pending')"
    "  UNION"
    "  SELECT a.subscriber_id, a.cycle, a.requested_at, s.{LA}::timestamptz"
    "    FROM {S}.account a JOIN {SRC} s ON s.{ID} = a.subscriber_id"
    "   WHERE a.state = 'pending' AND (a.deadline <= now() OR a.next_reminder_at <= now())"
    "     AND s.{LA} > a.requested_at) u"
    "  ORDER BY la, id %s)";

static const char resume_write[] =
    ","
    "acc AS (UPDATE {S}.account a SET state = 'active', next_reminder_at = NULL,"
    "                                 updated_at = now()"
    "          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'"
    "        RETURNING a.subscriber_id, a.cycle),"
    "tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),"
    "obx AS (UPDATE {S}.outbox o SET dead_at = now(),"
    "               last_error = 'superseded: the subscriber was active again'"
    "          FROM acc WHERE o.subscriber_id = acc.subscriber_id AND o.delivered_at IS NULL"
    "           AND o.dead_at IS NULL AND o.type LIKE 'confirmation.%'),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT acc.subscriber_id, 'resumed', acc.cycle, 'subscriber',"
    "              jsonb_build_object('last_activity_at', due.la,"
    "                                 'requested_at', due.requested_at)"
    "         FROM acc JOIN due ON due.id = acc.subscriber_id),"
    "mark AS (UPDATE {S}.control"
    "            SET activity_mark = (SELECT max(s.{LA}) FROM {SRC} s WHERE s.{LA} <= now())"
    "          WHERE (SELECT count(*) FROM due) < $(limit))"
    " SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < $(limit) AS done,"
    "        0 AS notified";

static const char resume_preview[] =
    " SELECT due.id::text AS subscriber_id, 'resume'::text AS action, NULL::text AS rule,"
    "        'active at ' || " TS("due.la") " || ' after the request of ' || " TS(
        "due.requested_at") " AS reason,"
                            "        due.la AS since FROM due ORDER BY due.la, due.id";

/* ---- reactivate ---- */

/* A page of suspended accounts after the cursor, whose source billing is
 * active again: the application resumed charging them. */
static const char reactivate_due[] =
    "WITH cur AS (SELECT reactivation_cursor AS c FROM {S}.control),"
    "page AS (SELECT a.subscriber_id AS id FROM {S}.account a"
    "          WHERE a.state = 'suspended'"
    "            AND (a.subscriber_id > (SELECT c FROM cur) OR (SELECT c FROM cur) IS NULL)"
    "          ORDER BY a.subscriber_id LIMIT $(limit)),"
    "due AS (SELECT p.id, s.{EMAIL}::text AS email, {LOCALE} AS locale, a.suspended_at"
    "          FROM page p JOIN {SRC} s ON s.{ID} = p.id"
    "          JOIN {S}.account a ON a.subscriber_id = p.id"
    "         WHERE s.{BILLING} = $(active))";

static const char reactivate_write[] =
    ","
    "acc AS (UPDATE {S}.account a SET state = 'active', suspended_at = NULL,"
    "               confirmed_at = now(), recheck_at = NULL, updated_at = now()"
    "          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'"
    "        RETURNING a.subscriber_id, a.cycle),"
    "ok AS (SELECT due.*, acc.cycle FROM due JOIN acc ON acc.subscriber_id = due.id),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT ok.id, 'reactivated', ok.cycle, 'daemon',"
    "              jsonb_build_object('cause', 'billing set back to active',"
    "                                 'suspended_at', ok.suspended_at)"
    "         FROM ok),"
    "msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)"
    "        SELECT 'subscription.reactivated', ok.id, ok.cycle,"
    "               jsonb_build_object('type', 'subscription.reactivated',"
    "                 'timestamp', " TS(
        "now()") ","
                 "                 'data', jsonb_build_object('subscriber_id', ok.id::text,"
                 "                   'email', ok.email, 'locale', ok.locale))"
                 "          FROM ok RETURNING 1),"
                 "mark AS (UPDATE {S}.control SET reactivation_cursor ="
                 "           CASE WHEN (SELECT count(*) FROM page) < $(limit) THEN NULL"
                 "                ELSE (SELECT id FROM page ORDER BY id DESC LIMIT 1) END)"
                 " SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM page) < "
                 "$(limit) AS done,"
                 "        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg "
                 "LIMIT 1) x)"
                 "          AS notified";

/* Preview and count look at every suspended account, not one page. */
static const char reactivate_all[] =
    "WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM {S}.account a"
    "               JOIN {SRC} s ON s.{ID} = a.subscriber_id"
    "              WHERE a.state = 'suspended' AND s.{BILLING} = $(active))";
static const char reactivate_preview[] =
    " SELECT due.id::text AS subscriber_id, 'reactivate'::text AS action, NULL::text AS rule,"
    "        'billing set back to active' AS reason, due.suspended_at AS since"
    "   FROM due ORDER BY due.id LIMIT $(limit)";

/* ---- reschedule (bookkeeping, not a transition) ---- */

static const char reschedule_run[] =
    "WITH acc AS (UPDATE {S}.account a"
    "   SET recheck_at = a.confirmed_at + CASE WHEN a.rule = 'never_active'"
    "                                          THEN coalesce($(never), $(inactive))"
    "                                          ELSE $(inactive) END"
    " WHERE a.subscriber_id IN (SELECT subscriber_id FROM {S}.account"
    "                            WHERE state = 'active' AND confirmed_at IS NOT NULL"
    "                              AND recheck_at IS NULL LIMIT $(limit))"
    "   AND a.state = 'active' AND a.recheck_at IS NULL AND a.confirmed_at IS NOT NULL"
    " RETURNING 1)"
    " SELECT 0::bigint AS moved, (SELECT count(*) FROM acc) < $(limit) AS done, 0 AS notified";

/* ---- remind ---- */

static const char remind_due[] =
    "WITH due AS (SELECT a.subscriber_id AS id, a.cycle, a.deadline, a.rule,"
    "                    s.{EMAIL}::text AS email, {LOCALE} AS locale,"
    "                    s.{LA}::timestamptz AS la, a.next_reminder_at,"
    "                    row_number() OVER (ORDER BY a.next_reminder_at, a.subscriber_id) AS n"
    "               FROM {S}.account a JOIN {SRC} s ON s.{ID} = a.subscriber_id"
    "              WHERE a.state = 'pending' AND a.next_reminder_at <= now()"
    "                AND a.deadline > now() AND NOT coalesce(s.{LA} > a.requested_at, false)"
    "              ORDER BY a.next_reminder_at, a.subscriber_id %s)";

static const char remind_write[] =
    ","
    "acc AS (UPDATE {S}.account a"
    "           SET reminders_sent = (SELECT count(*) FROM unnest($(reminders)) r"
    "                                  WHERE a.deadline - r <= now()),"
    "               next_reminder_at = (SELECT min(a.deadline - r) FROM unnest($(reminders)) r"
    "                                    WHERE a.deadline - r > now()),"
    "               updated_at = now()"
    "          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'"
    "           AND a.next_reminder_at <= now() AND a.deadline > now()"
    "        RETURNING a.subscriber_id, a.cycle, a.deadline, a.reminders_sent),"
    "ok AS (SELECT due.id, due.n, due.email, due.locale, due.la, due.rule, acc.cycle,"
    "              acc.deadline, acc.reminders_sent, t.tok,"
    "              (SELECT min(r) FROM unnest($(reminders)) r WHERE acc.deadline - r <= now())"
    "                AS offset_"
    "         FROM due JOIN acc ON acc.subscriber_id = due.id"
    "         JOIN unnest($(tokens)) WITH ORDINALITY AS t(tok, n) ON t.n = due.n),"
    "tok AS (INSERT INTO {S}.token (hash, subscriber_id, cycle)"
    "        SELECT sha256(convert_to(ok.tok, 'UTF8')), ok.id, ok.cycle FROM ok),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT ok.id, 'reminded', ok.cycle, 'daemon',"
    "              jsonb_build_object('offset', ok.offset_::text, 'deadline', ok.deadline,"
    "                                 'reminder', ok.reminders_sent)"
    "         FROM ok),"
    "msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)"
    "        SELECT 'confirmation.reminder', ok.id, ok.cycle,"
    "               jsonb_build_object('type', 'confirmation.reminder',"
    "                 'timestamp', " TS(
        "now()") ","
                 "                 'data', jsonb_build_object('subscriber_id', ok.id::text,"
                 "                   'email', ok.email, 'locale', ok.locale,"
                 "                   'confirm_url', $(url) || '/c/' || ok.tok,"
                 "                   'deadline', " TS(
                     "ok.deadline") ","
                                    "                   'last_activity_at', " TS(
                                        "ok.la") ", 'rule', ok.rule))"
                                                 "          FROM ok RETURNING 1)"
                                                 " SELECT (SELECT count(*) FROM acc) AS moved, "
                                                 "(SELECT count(*) FROM due) < $(limit) AS done,"
                                                 "        (SELECT count(*) FROM (SELECT "
                                                 "pg_notify('dormant_outbox', '') FROM msg LIMIT "
                                                 "1) x)"
                                                 "          AS notified";

static const char remind_preview[] =
    " SELECT due.id::text AS subscriber_id, 'remind'::text AS action, due.rule,"
    "        'deadline ' || " TS(
        "due.deadline") " AS reason, due.next_reminder_at AS since"
                        "   FROM due ORDER BY due.next_reminder_at, due.id";

/* ---- suspend ---- */

/* Delivered requests past their deadline with no activity since. */
static const char suspend_due[] =
    "WITH due AS (SELECT a.subscriber_id AS id, a.deadline, a.delivered_at, a.requested_at"
    "               FROM {S}.account a LEFT JOIN {SRC} s ON s.{ID} = a.subscriber_id"
    "              WHERE a.state = 'pending' AND a.deadline <= now()"
    "                AND a.delivered_at IS NOT NULL"
    "                AND NOT coalesce(s.{LA} > a.requested_at, false)"
    "              ORDER BY a.deadline, a.subscriber_id %s)";

static const char suspend_write[] =
    ","
    "acc AS (UPDATE {S}.account a SET state = 'suspended', suspended_at = now(),"
    "               next_reminder_at = NULL, updated_at = now()"
    "          FROM due WHERE a.subscriber_id = due.id AND a.state = 'pending'"
    "           AND a.deadline <= now() AND a.delivered_at IS NOT NULL"
    "        RETURNING a.subscriber_id, a.cycle, a.rule, a.deadline, a.delivered_at,"
    "                  a.requested_at),"
    "bill AS (UPDATE {SRC} s SET {BILLING} = $(suspended) FROM acc"
    "          WHERE s.{ID} = acc.subscriber_id AND s.{BILLING} = $(active)"
    "         RETURNING s.{ID} AS id),"
    "ok AS (SELECT acc.*, s.{EMAIL}::text AS email, {LOCALE} AS locale,"
    "              s.{LA}::timestamptz AS la,"
    "              EXISTS (SELECT 1 FROM bill WHERE bill.id = acc.subscriber_id) AS billed"
    "         FROM acc LEFT JOIN {SRC} s ON s.{ID} = acc.subscriber_id),"
    "tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor, detail)"
    "       SELECT ok.subscriber_id, 'suspended', ok.cycle, 'daemon',"
    "              jsonb_build_object('rule', ok.rule, 'deadline', ok.deadline,"
    "                                 'delivered_at', ok.delivered_at,"
    "                                 'requested_at', ok.requested_at,"
    "                                 'confirm_within', $(confirm)::text,"
    "                                 'billing_written', ok.billed)"
    "         FROM ok),"
    "msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)"
    "        SELECT 'subscription.suspended', ok.subscriber_id, ok.cycle,"
    "               jsonb_build_object('type', 'subscription.suspended',"
    "                 'timestamp', " TS(
        "now()") ","
                 "                 'data', jsonb_build_object('subscriber_id', "
                 "ok.subscriber_id::text,"
                 "                   'email', ok.email, 'locale', ok.locale,"
                 "                   'deadline', " TS(
                     "ok.deadline") ","
                                    "                   'last_activity_at', " TS(
                                        "ok.la") ", 'rule', ok.rule))"
                                                 "          FROM ok RETURNING 1)"
                                                 " SELECT (SELECT count(*) FROM acc) AS moved, "
                                                 "(SELECT count(*) FROM due) < $(limit) AS done,"
                                                 "        (SELECT count(*) FROM (SELECT "
                                                 "pg_notify('dormant_outbox', '') FROM msg LIMIT "
                                                 "1) x)"
                                                 "          AS notified";

static const char suspend_preview[] =
    " SELECT due.id::text AS subscriber_id, 'suspend'::text AS action, NULL::text AS rule,"
    "        'deadline ' || " TS("due.deadline") " || ' passed; delivered ' || " TS(
        "due.delivered_at") " AS reason,"
                            "        due.deadline AS since FROM due ORDER BY due.deadline, due.id";

/* ---- erase ---- */

static const char erase_due[] =
    "WITH due AS (SELECT a.subscriber_id AS id, a.suspended_at FROM {S}.account a"
    "              WHERE a.state = 'suspended' AND a.suspended_at <= now() - $(erase)"
    "              ORDER BY a.suspended_at, a.subscriber_id %s)";

static const char erase_write[] =
    ","
    "acc AS (UPDATE {S}.account a SET state = 'erased', updated_at = now()"
    "          FROM due WHERE a.subscriber_id = due.id AND a.state = 'suspended'"
    "        RETURNING a.subscriber_id, a.cycle),"
    "%s"
    "tok AS (DELETE FROM {S}.token t USING acc WHERE t.subscriber_id = acc.subscriber_id),"
    "exm AS (DELETE FROM {S}.exemption x USING acc WHERE x.subscriber_id = acc.subscriber_id),"
    "obx AS (UPDATE {S}.outbox o SET payload = NULL,"
    "               dead_at = CASE WHEN o.delivered_at IS NULL THEN coalesce(o.dead_at, now())"
    "                              ELSE o.dead_at END,"
    "               last_error = CASE WHEN o.delivered_at IS NULL AND o.dead_at IS NULL"
    "                                 THEN 'superseded: the subscriber was erased'"
    "                                 ELSE o.last_error END"
    "          FROM acc WHERE o.subscriber_id = acc.subscriber_id"
    "           AND (o.payload IS NOT NULL OR (o.delivered_at IS NULL AND o.dead_at IS NULL))),"
    "evx AS (UPDATE {S}.event e SET detail = '{}' FROM acc"
    "         WHERE e.subscriber_id = acc.subscriber_id AND e.detail <> '{}'),"
    "ev AS (INSERT INTO {S}.event (subscriber_id, kind, cycle, actor)"
    "       SELECT acc.subscriber_id, 'erased', acc.cycle, 'daemon' FROM acc),"
    "msg AS (INSERT INTO {S}.outbox (type, subscriber_id, cycle, payload)"
    "        SELECT 'subscriber.erased', acc.subscriber_id, acc.cycle,"
    "               jsonb_build_object('type', 'subscriber.erased',"
    "                 'timestamp', " TS(
        "now()") ","
                 "                 'data', jsonb_build_object('subscriber_id', "
                 "acc.subscriber_id::text))"
                 "          FROM acc RETURNING 1)"
                 " SELECT (SELECT count(*) FROM acc) AS moved, (SELECT count(*) FROM due) < "
                 "$(limit) AS done,"
                 "        (SELECT count(*) FROM (SELECT pg_notify('dormant_outbox', '') FROM msg "
                 "LIMIT 1) x)"
                 "          AS notified";

static const char erase_preview[] =
    " SELECT due.id::text AS subscriber_id, 'erase'::text AS action, NULL::text AS rule,"
    "        'suspended since ' || " TS(
        "due.suspended_at") " AS reason,"
                            "        due.suspended_at AS since FROM due ORDER BY due.suspended_at, "
                            "due.id";

/* ---- guards, eligible count, setup ---- */

static const char guards_sql[] =
    "WITH ctl AS (SELECT * FROM {S}.control),"
    "rs AS (UPDATE {S}.control SET rescan = false, inactive_mark = NULL, inactive_mark_id = NULL,"
    "              created_mark = NULL, created_mark_id = NULL"
    "        WHERE rescan AND $(write) RETURNING 1),"
    "newest AS (SELECT max(s.{LA})::timestamptz AS ts FROM {SRC} s WHERE s.{LA} <= now()),"
    "backlog AS (SELECT %s AS n)"
    " SELECT ctl.paused, n.ts IS NULL OR n.ts < now() - $(lag) AS stale, n.ts AS newest_activity,"
    "        CASE WHEN b.n > 0 THEN (SELECT count(*) FROM {S}.event"
    "          WHERE kind = 'requested' AND at > now() - interval '24 hours') END"
    "          AS requested_24h,"
    "        b.n AS backlog, ctl.backlog_accepted,"
    "        CASE WHEN (ctl.guards #>> '{backlog,eligible_at}')::timestamptz"
    "                  > now() - interval '1 hour'"
    "             THEN (ctl.guards #>> '{backlog,eligible}')::bigint END AS eligible_cached,"
    "        (SELECT count(*) FROM rs) AS rescanned,"
    "        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark END::text,"
    "        CASE WHEN ctl.rescan THEN NULL ELSE ctl.inactive_mark_id END::text,"
    "        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark END::text,"
    "        CASE WHEN ctl.rescan THEN NULL ELSE ctl.created_mark_id END::text"
    "   FROM ctl, newest n, backlog b";

static const char eligible_sql[] =
    "SELECT count(*) FROM {SRC} s WHERE s.{BILLING} = $(active) AND coalesce(({ELIGIBLE}), false)";

static const char setup_sql[] =
    "UPDATE {S}.control SET confirm_within = $(confirm), reminders = $(reminders)";

/* ---- the builder ---- */

/* printf into a new string (for assembling templates with %s slots). */
static char *fmt(const char *f, ...) DM_PRINTF(1, 2);

static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

/* Replaces the "%s" slots of tmpl, in order, with the n strings given
 * (nothing else in tmpl is special); newly allocated. */
static char *fill(const char *tmpl, int n, ...)
{
    struct dm_strbuf b = {0};
    va_list ap;
    va_start(ap, n);
    for (const char *p = tmpl; *p;) {
        if (p[0] == '%' && p[1] == 's' && n > 0) {
            dm_strbuf_str(&b, va_arg(ap, const char *));
            n--;
            p += 2;
            continue;
        }
        dm_strbuf_add(&b, p, 1);
        p++;
    }
    va_end(ap);
    return b.s;
}

/* s with every occurrence of tok replaced by val; newly allocated. */
static char *replace_all(const char *s, const char *tok, const char *val)
{
    struct dm_strbuf b = {0};
    size_t n = strlen(tok);
    for (const char *p = s; *p;) {
        if (strncmp(p, tok, n) == 0) {
            dm_strbuf_str(&b, val);
            p += n;
        } else {
            dm_strbuf_add(&b, p, 1);
            p++;
        }
    }
    return b.s;
}

/* The structural replacements of one configuration. */
struct subst {
    const char *name;
    char *value;
};

enum {
    SUB_S,
    SUB_SRC,
    SUB_ID,
    SUB_EMAIL,
    SUB_LA,
    SUB_CREATED,
    SUB_BILLING,
    SUB_LOCALE,
    SUB_ELIGIBLE,
    SUB_ERASE_SET,
    SUB_SEQ,
    SUB_COUNT
};

/* Expands tmpl into st: {NAME} from subs, $(name) into numbered parameters. */
static void expand(const char *tmpl, struct subst *subs, struct dm_stmt *st)
{
    struct dm_strbuf b = {0};
    int number[DM_P_COUNT] = {0};

    st->nparams = 0;
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            bool done = false;
            for (int i = 0; i < SUB_COUNT; i++) {
                size_t n = strlen(subs[i].name);
                if (strncmp(p + 1, subs[i].name, n) == 0 && p[1 + n] == '}') {
                    dm_strbuf_str(&b, subs[i].value);
                    p += n + 2;
                    done = true;
                    break;
                }
            }
            if (done)
                continue;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *end = strchr(p, ')');
            for (int i = 0; end && i < DM_P_COUNT; i++) {
                size_t n = strlen(params[i].name);
                if ((size_t)(end - p - 2) == n && strncmp(p + 2, params[i].name, n) == 0) {
                    if (number[i] == 0) {
                        st->params[st->nparams++] = (enum dm_param)i;
                        number[i] = st->nparams;
                    }
                    char num[32];
                    snprintf(num, sizeof num, "$%d%s", number[i], params[i].cast);
                    dm_strbuf_str(&b, num);
                    p = end + 1;
                    break;
                }
            }
            if (p[0] != '$')
                continue;
        }
        dm_strbuf_add(&b, p, 1);
        p++;
    }
    st->sql = b.s;
}

/* Builds the three statements of a step from its parts: the WITH part
 * (with a %s for the LIMIT clause; run_with_fmt for the writing statement,
 * with_fmt for preview and count), the writing tail, preview and count. */
static void build_step(struct subst *subs, struct dm_lifecycle *lc, enum dm_step step,
                       const char *run_with_fmt, const char *with_fmt, const char *write_tail,
                       const char *preview_tail, const char *count_tail)
{
    char *with_limited = fill(run_with_fmt, 1, "LIMIT $(limit)");
    char *with_all = fill(with_fmt, 1, "");
    char *run = fmt("%s%s", with_limited, write_tail);
    expand(run, subs, &lc->run[step]);
    free(run);
    if (preview_tail) {
        char *pv = fmt("%s%s", with_all, preview_tail);
        expand(pv, subs, &lc->preview[step]);
        free(pv);
        char *ct = fmt("%s%s", with_all, count_tail);
        expand(ct, subs, &lc->count[step]);
        free(ct);
    }
    free(with_limited);
    free(with_all);
}

bool dm_lifecycle_build(const struct dm_config *cfg, struct dm_lifecycle *lc, char *err,
                        size_t errlen)
{
    char id[256], schema[256], table[512], email[256], la[256], created[256], billing[256];
    char locale[300], seqname[600], seq[1300];
    bool ok = false;

    memset(lc, 0, sizeof *lc);
    dm_sql_ident(cfg->database.schema, schema, sizeof schema);
    dm_sql_ident(cfg->source.table, table, sizeof table);
    dm_sql_ident(cfg->source.id, id, sizeof id);
    dm_sql_ident(cfg->source.email, email, sizeof email);
    dm_sql_ident(cfg->source.last_activity_at, la, sizeof la);
    dm_sql_ident(cfg->source.created_at, created, sizeof created);
    dm_sql_ident(cfg->source.billing.column, billing, sizeof billing);
    if (cfg->source.locale[0]) {
        char q[256];
        snprintf(locale, sizeof locale, "s.%s::text",
                 dm_sql_ident(cfg->source.locale, q, sizeof q));
    } else {
        snprintf(locale, sizeof locale, "NULL::text");
    }
    snprintf(seqname, sizeof seqname, "%s.outbox_id_seq", schema);
    dm_sql_literal(seqname, seq, sizeof seq);

    struct dm_strbuf erase_set = {0};
    for (size_t i = 0; i < cfg->policy.erase_columns.n; i++) {
        char q[256];
        if (i > 0)
            dm_strbuf_str(&erase_set, ", ");
        dm_strbuf_str(&erase_set, dm_sql_ident(cfg->policy.erase_columns.items[i], q, sizeof q));
        dm_strbuf_str(&erase_set, " = NULL");
    }
    char *eligible = cfg->source.eligible[0] ? fmt("(%s)", cfg->source.eligible) : fmt("true");

    struct subst subs[SUB_COUNT] = {
        [SUB_S] = {"S", schema},
        [SUB_SRC] = {"SRC", table},
        [SUB_ID] = {"ID", id},
        [SUB_EMAIL] = {"EMAIL", email},
        [SUB_LA] = {"LA", la},
        [SUB_CREATED] = {"CREATED", created},
        [SUB_BILLING] = {"BILLING", billing},
        [SUB_LOCALE] = {"LOCALE", locale},
        [SUB_ELIGIBLE] = {"ELIGIBLE", eligible},
        [SUB_ERASE_SET] = {"ERASE_SET", erase_set.s ? erase_set.s : ""},
        [SUB_SEQ] = {"SEQ", seq},
    };

    /* Configuration values, rendered once. */
    const struct dm_interval *ivs[DM_P_COUNT] = {
        [DM_P_INACTIVE] = &cfg->policy.inactive_after,
        [DM_P_NEVER] = &cfg->policy.never_active_after,
        [DM_P_MIN_AGE] = &cfg->policy.min_account_age,
        [DM_P_CONFIRM] = &cfg->policy.confirm_within,
        [DM_P_ERASE] = &cfg->policy.erase_after,
        [DM_P_LAG] = &cfg->limits.max_activity_lag,
    };
    for (int i = 0; i < DM_P_COUNT; i++) {
        if (ivs[i] == NULL)
            continue;
        if (ivs[i]->set)
            dm_interval_sql(ivs[i], lc->values[i], DM_LC_VALUE_SIZE);
        else if (i == DM_P_MIN_AGE || i == DM_P_LAG)
            snprintf(lc->values[i], DM_LC_VALUE_SIZE, "0 seconds");
        else
            lc->value_null[i] = true;
    }
    struct dm_strbuf rem = {0};
    dm_strbuf_str(&rem, "{");
    for (size_t i = 0; i < cfg->policy.reminders.n; i++) {
        char one[128];
        dm_interval_sql(&cfg->policy.reminders.items[i], one, sizeof one);
        dm_strbuf_str(&rem, i ? ",\"" : "\"");
        dm_strbuf_str(&rem, one);
        dm_strbuf_str(&rem, "\"");
    }
    dm_strbuf_str(&rem, "}");
    int n1 = snprintf(lc->values[DM_P_REMINDERS], DM_LC_VALUE_SIZE, "%s", rem.s);
    int n2 = snprintf(lc->values[DM_P_ACTIVE], DM_LC_VALUE_SIZE, "%s", cfg->source.billing.active);
    int n3 =
        snprintf(lc->values[DM_P_SUSPENDED], DM_LC_VALUE_SIZE, "%s", cfg->source.billing.suspended);
    int n4 = snprintf(lc->values[DM_P_URL], DM_LC_VALUE_SIZE, "%s", cfg->http.public_url);
    free(rem.s);
    if (n1 >= DM_LC_VALUE_SIZE || n2 >= DM_LC_VALUE_SIZE || n3 >= DM_LC_VALUE_SIZE ||
        n4 >= DM_LC_VALUE_SIZE) {
        snprintf(err, errlen, "a configuration value is too long (reminders, billing or url)");
        goto out;
    }
    snprintf(lc->values[DM_P_WRITE], DM_LC_VALUE_SIZE, "true");

    /* The request steps: three candidate sources, one decision. */
    struct {
        enum dm_step step;
        const char *raw;
        const char *mark;
        const char *recheck;
    } req[] = {
        {DM_STEP_REQUEST_RECHECK, raw_recheck, "", "true"},
        {DM_STEP_REQUEST_INACTIVE, raw_inactive, mark_inactive, "false"},
        {DM_STEP_REQUEST_NEVER, raw_never, mark_never, "false"},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        char *with = fmt("WITH %s%s", req[i].raw, decide);
        /* The writing batch is planned with the watermark's actual value
         * (parameters), so that it walks the index in order and stops at
         * the batch's end; preview and count read it from the control row. */
        char *r1 = replace_all(with, "@MTS@", "$(mark_ts)");
        char *run_with = replace_all(r1, "@MID@", "$(mark_id)");
        char *r2 = replace_all(with, "@MTS@", "(SELECT ts FROM mk)");
        char *all_with = replace_all(r2, "@MID@", "(SELECT id FROM mk)");
        char *tail = fill(request_write, 3, req[i].recheck, req[i].mark,
                          req[i].mark[0] ? mark_columns : ", NULL::text, NULL::text");
        build_step(subs, lc, req[i].step, run_with, all_with, tail, request_preview, request_count);
        lc->messages[req[i].step] = true;
        free(with);
        free(r1);
        free(run_with);
        free(r2);
        free(all_with);
        free(tail);
    }
    if (!cfg->policy.never_active_after.set) {
        free(lc->run[DM_STEP_REQUEST_NEVER].sql);
        free(lc->preview[DM_STEP_REQUEST_NEVER].sql);
        free(lc->count[DM_STEP_REQUEST_NEVER].sql);
        lc->run[DM_STEP_REQUEST_NEVER].sql = NULL;
        lc->preview[DM_STEP_REQUEST_NEVER].sql = NULL;
        lc->count[DM_STEP_REQUEST_NEVER].sql = NULL;
    }

    expand(reschedule_run, subs, &lc->run[DM_STEP_RESCHEDULE]);
    build_step(subs, lc, DM_STEP_RESUME, resume_due, resume_due, resume_write, resume_preview,
               " SELECT count(*) FROM due");
    {
        /* The reactivation page is not limited by %s: it has its own LIMIT. */
        char *run = fmt("%s%s", reactivate_due, reactivate_write);
        expand(run, subs, &lc->run[DM_STEP_REACTIVATE]);
        free(run);
        char *pv = fmt("%s%s", reactivate_all, reactivate_preview);
        expand(pv, subs, &lc->preview[DM_STEP_REACTIVATE]);
        free(pv);
        char *ct = fmt("%s SELECT count(*) FROM due", reactivate_all);
        expand(ct, subs, &lc->count[DM_STEP_REACTIVATE]);
        free(ct);
        lc->messages[DM_STEP_REACTIVATE] = true;
    }
    if (cfg->policy.reminders.n > 0) {
        build_step(subs, lc, DM_STEP_REMIND, remind_due, remind_due, remind_write, remind_preview,
                   " SELECT count(*) FROM due");
        lc->messages[DM_STEP_REMIND] = true;
    }
    build_step(subs, lc, DM_STEP_SUSPEND, suspend_due, suspend_due, suspend_write, suspend_preview,
               " SELECT count(*) FROM due");
    lc->messages[DM_STEP_SUSPEND] = true;
    if (cfg->policy.erase_after.set) {
        char *set = cfg->policy.erase_columns.n > 0
                        ? fmt("src AS (UPDATE {SRC} s SET {ERASE_SET} FROM acc"
                              " WHERE s.{ID} = acc.subscriber_id),")
                        : fmt("%s", "");
        char *tail = fill(erase_write, 1, set);
        build_step(subs, lc, DM_STEP_ERASE, erase_due, erase_due, tail, erase_preview,
                   " SELECT count(*) FROM due");
        lc->messages[DM_STEP_ERASE] = true;
        free(set);
        free(tail);
    }

    /* The backlog: everyone the request steps would ask now, unbatched. */
    {
        struct dm_strbuf bl = {0};
        dm_strbuf_str(&bl, "(0");
        for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
            if (req[i].step == DM_STEP_REQUEST_NEVER && !cfg->policy.never_active_after.set)
                continue;
            char *with = fmt("WITH %s%s", req[i].raw, decide);
            char *r2 = replace_all(with, "@MTS@", "(SELECT ts FROM mk)");
            char *all_with = replace_all(r2, "@MID@", "(SELECT id FROM mk)");
            char *all = fill(all_with, 1, "");
            free(r2);
            free(all_with);
            /* With the backlog guard off (fraction 1), whether anyone
             * waits is all the rate guard needs: stop at the first one. */
            char *part = cfg->limits.max_backlog_fraction >= 1.0
                             ? fmt(" + (SELECT EXISTS (%s SELECT 1 FROM dec d"
                                   " WHERE d.decision = 'request'))::int",
                                   all)
                             : fmt(" + (%s%s)", all, request_count);
            dm_strbuf_str(&bl, part);
            free(with);
            free(all);
            free(part);
        }
        dm_strbuf_str(&bl, ")");
        char *g = fill(guards_sql, 1, bl.s);
        expand(g, subs, &lc->guards);
        free(g);
        free(bl.s);
    }
    expand(eligible_sql, subs, &lc->eligible);
    expand(setup_sql, subs, &lc->setup);
    ok = true;
out:
    free(eligible);
    free(erase_set.s);
    if (!ok)
        dm_lifecycle_free(lc);
    return ok;
}

void dm_lifecycle_free(struct dm_lifecycle *lc)
{
    for (int i = 0; i < DM_STEP_COUNT; i++) {
        free(lc->run[i].sql);
        free(lc->preview[i].sql);
        free(lc->count[i].sql);
    }
    free(lc->guards.sql);
    free(lc->eligible.sql);
    free(lc->setup.sql);
    memset(lc, 0, sizeof *lc);
}

void dm_lifecycle_params(const struct dm_lifecycle *lc, const struct dm_stmt *st, long limit,
                         char *limit_buf, size_t limit_len, const char *tokens, const char **values)
{
    snprintf(limit_buf, limit_len, "%ld", limit);
    for (int i = 0; i < st->nparams; i++) {
        enum dm_param p = st->params[i];
        if (p == DM_P_LIMIT)
            values[i] = limit_buf;
        else if (p == DM_P_TOKENS)
            values[i] = tokens;
        else if (p == DM_P_MARK_TS)
            values[i] = lc->mark_ts;
        else if (p == DM_P_MARK_ID)
            values[i] = lc->mark_id;
        else if (lc->value_null[p])
            values[i] = NULL;
        else
            values[i] = lc->values[p];
    }
}
