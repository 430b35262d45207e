/* The outbox dispatcher: claims due messages and delivers them. */
#include "outbox.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "email.h"
#include "env.h"
#include "log.h"
#include "metrics.h"
#include "outbox_outcome.h"
#include "outbox_claim.h"
#include "outbox_purge.h"
#include "outbox_writer.h"
#include "sql.h"
#include "strbuf.h"
#include "template.h"
#include "transfer.h"
#include "util.h"
#include "webhook.h"

/* The retry timer never sleeps longer than this, so a pause lifted in the
 * database or a missed notification costs at most this much delay. */
#define POLL_MAX_MS 2000
#define POLL_MIN_MS 20
/* A claim lease outlives the slowest transfer by this margin. */
#define LEASE_MARGIN_S 15

/* Rows claimed at most, as a multiple of webhook.concurrency, and the room
 * (same unit) a claim waits for: a claim and an outcome statement cost
 * about the same for 10 rows as for 100, so rows go in batches. */
#define QUEUE_FACTOR 16
#define CLAIM_FACTOR 4

/* One claimed outbox row, from the claim until its outcome is written. */
struct job {
    LIST_ENTRY(job) all;       /* in o->jobs from the claim to the outcome */
    TAILQ_ENTRY(job) queued;   /* in o->queue until started */
    struct dm_outcome_row row; /* the outcome, kept until written (so that it
                                  can be sent again after a lost connection) */
    struct dm_outbox *o;
    char id[24];            /* outbox id, as text */
    char *type;             /* message type */
    int attempts;           /* failed attempts before this round */
    bool done[DM_CH_COUNT]; /* channels that have delivered (before or now) */
    enum dm_ch_result result[DM_CH_COUNT];
    int64_t retry_after_s[DM_CH_COUNT]; /* server's Retry-After, -1 = none */
    char cause[DM_CH_COUNT][200];       /* why a channel failed */
    char *stated_deadline;              /* deadline put into the message, or NULL */
    int pending;                        /* transfers in flight */
    struct dm_webhook_request *wh;
    struct dm_email_request *em;
    bool dead;                  /* the outcome makes the message dead */
    char *cols[DM_CLAIM_COUNT]; /* the claimed row (NULL = SQL NULL), until started */
    int64_t claimed_ms;         /* dm_now_ms() at the claim */
};

struct dm_outbox {
    struct dm_env env; /* loop, connection, configuration, counters, hooks */
    struct dm_transfers *transfers;
    struct dm_purge *purge;     /* limits.keep_messages, on the same connection */
    struct event *timer;        /* retries and lease expiries: the next due row */
    char me[160];               /* claimed_by: host and pid */
    struct dm_claimer *claimer; /* claims, releases, the next due time */
    struct dm_stmt sql_listen;
    struct dm_writer *writer; /* outcomes, many a statement */
    bool stopped;             /* dm_outbox_stop(): claim nothing new */
    bool webhook_gone;        /* a 410 disabled the webhook until reload */
    /* the last retry logged per channel: one cause failing hundreds of
     * messages is one line a minute, not one per message */
    char logged_cause[DM_CH_COUNT][160];
    char logged_id[DM_CH_COUNT][32];
    int64_t logged_ms[DM_CH_COUNT];
    bool once_drain;       /* --once: report when nothing due is left */
    bool drained;          /* the outbox_drained hook was called */
    bool dry_logged;       /* the dry-run notice was logged */
    LIST_HEAD(, job) jobs; /* claimed, not yet written back */
    int njobs;
    TAILQ_HEAD(, job) queue; /* claimed, not started yet, oldest first */
    int running;             /* jobs started whose transfers have not all ended */
};

static void claim(struct dm_outbox *o);

static bool paused(const struct dm_outbox *o)
{
    return o->env.hooks.paused(o->env.hooks.owner);
}

static bool dry_run(const struct dm_outbox *o)
{
    return o->env.hooks.dry_run(o->env.hooks.owner);
}

/* A channel is configured when its key is set; it is active when it may be
 * used now (a 410 switches the webhook off until reload). */
static bool configured(const struct dm_outbox *o, enum dm_channel ch)
{
    const struct dm_config *cfg = o->env.cfg;
    return ch == DM_CH_WEBHOOK ? cfg->webhook.url[0] != '\0' : cfg->email.smtp_url[0] != '\0';
}

static bool active(const struct dm_outbox *o, enum dm_channel ch)
{
    return configured(o, ch) && !(ch == DM_CH_WEBHOOK && o->webhook_gone);
}

/* "{webhook,email}": the text[] literal of the channels set in have. */
static void channel_array(bool have[DM_CH_COUNT], char *buf, size_t len)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, len - n, "{");
    bool first = true;
    for (int ch = 0; ch < DM_CH_COUNT; ch++) {
        if (!have[ch])
            continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s", first ? "" : ",", dm_channel_names[ch]);
        first = false;
    }
    snprintf(buf + n, len - n, "}");
}

static void build_sql(struct dm_outbox *o)
{
    const struct dm_sql_names *n = o->env.names;
    dm_stmt_free(&o->sql_listen);
    dm_writer_reconfigure(o->writer, n);
    dm_claimer_reconfigure(o->claimer, n);
    dm_sql_render(&o->sql_listen, dm_sql(DM_SQL_OUTBOX_LISTEN), n, NULL);
}

/* Sends st with values in the order of its parameter list. */
static bool send_stmt(struct dm_outbox *o, const struct dm_stmt *st, const char *const *values,
                      dm_db_result_fn fn)
{
    const char *bound[DM_SQL_MAX_PARAMS];
    dm_stmt_bind(st, values, bound);
    return dm_db_send(o->env.db, st->sql, st->nparams, bound, fn, o);
}

/* How long a claim holds a row: longer than any transfer can take. */
static void lease(const struct dm_outbox *o, char *buf, size_t len)
{
    int64_t ms = 0;
    if (configured(o, DM_CH_WEBHOOK))
        ms = dm_interval_ms(&o->env.cfg->webhook.timeout);
    if (configured(o, DM_CH_EMAIL) && ms < DM_EMAIL_TIMEOUT_MS)
        ms = DM_EMAIL_TIMEOUT_MS;
    snprintf(buf, len, "%" PRId64 " milliseconds", 2 * ms + LEASE_MARGIN_S * 1000);
}

static void job_free(struct job *j)
{
    dm_webhook_request_free(j->wh);
    dm_email_request_free(j->em);
    for (size_t i = 0; i < DM_OUT_COUNT; i++)
        free(j->row.cols[i]);
    for (size_t i = 0; i < DM_CLAIM_COUNT; i++)
        free(j->cols[i]);
    free(j->type);
    free(j->stated_deadline);
    free(j);
}

/* --once: reports the end once nothing due is left and nothing is in flight. */
static void maybe_drained(struct dm_outbox *o)
{
    if (!o->once_drain || o->drained || o->njobs > 0 || dm_claimer_busy(o->claimer))
        return;
    o->drained = true;
    o->env.hooks.outbox_drained(o->env.hooks.owner);
}

static void arm_timer(struct dm_outbox *o, int64_t ms)
{
    if (o->env.once || o->stopped)
        return;
    if (ms < POLL_MIN_MS)
        ms = POLL_MIN_MS;
    if (ms > POLL_MAX_MS)
        ms = POLL_MAX_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(o->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    claim(arg);
}

/* Writes the outcomes that wait: a slot-full of them while every slot is
 * busy (more are about to finish), any number once a slot is idle (nothing
 * more may come soon). */
static void flush(struct dm_outbox *o)
{
    int cap = o->env.cfg->webhook.concurrency;
    dm_writer_flush(o->writer, o->running < cap || o->stopped ? 0 : cap);
}

/* The writer is done with a job's outcome. */
static void row_done(void *arg, struct dm_outcome_row *row, enum dm_writer_result result)
{
    struct dm_outbox *o = arg;
    struct job *j = (struct job *)((char *)row - offsetof(struct job, row));
    if (result == DM_NOT_APPLIED)
        dm_log_warning("outbox: the row was claimed again or closed before its outcome was "
                       "recorded",
                       DM_S("outbox_id", j->id));
    else if (result == DM_WRITTEN && j->dead)
        o->env.metrics->transitions[DM_T_DELIVERY_FAILED]++;
    LIST_REMOVE(j, all);
    o->njobs--;
    job_free(j);
}

static void writer_idle(void *arg)
{
    struct dm_outbox *o = arg;
    flush(o);
    claim(o);
    maybe_drained(o);
}

/* Whether cause was logged for another message on channel ch less than a
 * minute ago (the message logged keeps being logged, one line a round); if
 * not, this message and cause are the ones logged now. */
static bool repeated(struct dm_outbox *o, int ch, const char *id, const char *cause)
{
    int64_t now = dm_now_ms();
    if (strncmp(o->logged_cause[ch], cause, sizeof o->logged_cause[ch] - 1) == 0 &&
        now - o->logged_ms[ch] < 60000 && strcmp(o->logged_id[ch], id) != 0)
        return true;
    snprintf(o->logged_cause[ch], sizeof o->logged_cause[ch], "%s", cause);
    snprintf(o->logged_id[ch], sizeof o->logged_id[ch], "%s", id);
    o->logged_ms[ch] = now;
    return false;
}

/* Counts a round in the metrics and logs each failed channel (a cause
 * repeated for other messages within a minute only once). */
static void report(struct job *j, const struct dm_outcome *oc)
{
    struct dm_outbox *o = j->o;
    for (int ch = 0; ch < DM_CH_COUNT; ch++) {
        enum dm_ch_result r = j->result[ch];
        if (r == DM_CH_NONE)
            continue;
        if (r == DM_CH_OK) {
            o->env.metrics->deliveries[ch][DM_DLV_DELIVERED]++;
            continue;
        }
        o->env.metrics->deliveries[ch][oc->dead ? DM_DLV_DEAD : DM_DLV_RETRY]++;
        if (r == DM_CH_GONE)
            continue; /* logged once when the endpoint was disabled */
        if (!oc->dead && repeated(o, ch, j->id, j->cause[ch]))
            continue; /* the same cause was just logged for another message */
        if (r == DM_CH_OPERATOR)
            dm_log_error("the mail relay refused the message for a reason that is the "
                         "operator's to fix (sender, relaying, login): it waits and is retried",
                         DM_S("outbox_id", j->id), DM_S("channel", dm_channel_names[ch]),
                         DM_S("cause", j->cause[ch]), DM_S("retry_in", oc->delay_human),
                         DM_S("repeats", "other messages failing so are not logged for a minute"));
        else if (oc->dead)
            dm_log_error("delivery failed for good: message dead", DM_S("outbox_id", j->id),
                         DM_S("channel", dm_channel_names[ch]), DM_S("type", j->type),
                         DM_S("cause", j->cause[ch]), DM_I("attempts", j->attempts + 1));
        else
            dm_log_warning(
                "delivery failed, will retry", DM_S("outbox_id", j->id),
                DM_S("channel", dm_channel_names[ch]), DM_S("cause", j->cause[ch]),
                DM_I("attempt", j->attempts + 1), DM_S("retry_in", oc->delay_human),
                DM_S("repeats", "other messages failing so are not logged for a minute"));
    }
}

/* Every transfer of the job has ended: decide the row's outcome and write
 * it in one statement. */
static void job_finish(struct job *j)
{
    struct dm_outbox *o = j->o;
    const struct dm_config *cfg = o->env.cfg;
    struct dm_round r = {.attempts = j->attempts};
    struct dm_outcome oc;

    for (int ch = 0; ch < DM_CH_COUNT; ch++) {
        r.configured[ch] = configured(o, ch);
        r.done[ch] = j->done[ch];
        r.result[ch] = j->result[ch];
        r.retry_after_s[ch] = j->retry_after_s[ch];
        r.cause[ch] = j->cause[ch];
    }
    r.retry[DM_CH_WEBHOOK] = &cfg->webhook.retry;
    r.retry[DM_CH_EMAIL] = &cfg->email.retry;
    dm_outcome_decide(&r, &oc);
    memcpy(j->done, oc.done, sizeof j->done);
    bool delivered = oc.delivered, dead = oc.dead;
    report(j, &oc);
    if (delivered)
        dm_log_debug("delivered", DM_S("outbox_id", j->id), DM_S("type", j->type));

    char done[64];
    channel_array(j->done, done, sizeof done);
    j->dead = dead;
    j->row.cols[DM_OUT_ID] = dm_xstrdup(j->id);
    j->row.cols[DM_OUT_DONE] = dm_xstrdup(done);
    j->row.cols[DM_OUT_DELIVERED] = dm_xstrdup(delivered ? "t" : "f");
    j->row.cols[DM_OUT_STATED] =
        oc.any_ok && j->stated_deadline ? dm_xstrdup(j->stated_deadline) : NULL;
    j->row.cols[DM_OUT_DEAD] = dm_xstrdup(dead ? "t" : "f");
    j->row.cols[DM_OUT_DELAY] = oc.delayed ? dm_xstrdup(oc.delay) : NULL;
    j->row.cols[DM_OUT_ERROR] = oc.last_error[0] ? dm_xstrdup(oc.last_error) : NULL;
    j->row.cols[DM_OUT_CHANNEL] = dm_xstrdup(oc.dead_channel);
    j->row.cols[DM_OUT_COUNTED] = dm_xstrdup(oc.counted ? "t" : "f");
    dm_writer_add(o->writer, &j->row);
}

static void pump(struct dm_outbox *o);

static void transfer_ended(struct job *j)
{
    if (--j->pending > 0)
        return;
    struct dm_outbox *o = j->o;
    o->running--;
    job_finish(j);
    pump(o);
    flush(o); /* after pump, which may have refilled the slot */
}

static void webhook_done(void *arg, CURL *easy, CURLcode rc)
{
    struct job *j = arg;
    struct dm_outbox *o = j->o;
    long status;
    int64_t ra;

    switch (dm_webhook_result(j->wh, rc, &status, &ra, j->cause[DM_CH_WEBHOOK],
                              sizeof j->cause[DM_CH_WEBHOOK])) {
    case DM_WH_DELIVERED:
        j->result[DM_CH_WEBHOOK] = DM_CH_OK;
        break;
    case DM_WH_RETRY:
        j->result[DM_CH_WEBHOOK] = DM_CH_RETRY;
        j->retry_after_s[DM_CH_WEBHOOK] = ra;
        break;
    case DM_WH_GONE:
        j->result[DM_CH_WEBHOOK] = DM_CH_GONE;
        if (!o->webhook_gone)
            dm_log_error("webhook endpoint answered 410 Gone: webhook delivery disabled until "
                         "the configuration is reloaded (fix webhook.url, then reload)",
                         DM_S("outbox_id", j->id), DM_S("channel", "webhook"),
                         DM_S("messages", configured(o, DM_CH_EMAIL)
                                              ? "e-mail still sent; none counts as delivered "
                                                "(no deadline starts) until the webhook takes it"
                                              : "wait undelivered (no deadline starts)"));
        o->webhook_gone = true;
        o->env.metrics->endpoint_disabled[DM_CH_WEBHOOK] = true;
        break;
    }
    dm_webhook_request_free(j->wh);
    j->wh = NULL;
    transfer_ended(j);
}

static void email_done(void *arg, CURL *easy, CURLcode rc)
{
    struct job *j = arg;

    switch (dm_email_result(j->em, rc, j->cause[DM_CH_EMAIL], sizeof j->cause[DM_CH_EMAIL])) {
    case DM_EMAIL_SENT:
        j->result[DM_CH_EMAIL] = DM_CH_OK;
        break;
    case DM_EMAIL_RETRY:
        j->result[DM_CH_EMAIL] = DM_CH_RETRY;
        break;
    case DM_EMAIL_OPERATOR:
        j->result[DM_CH_EMAIL] = DM_CH_OPERATOR;
        break;
    case DM_EMAIL_REJECTED:
        j->result[DM_CH_EMAIL] = DM_CH_DEAD;
        break;
    }
    dm_email_request_free(j->em);
    j->em = NULL;
    transfer_ended(j);
}

static const char *jcol(const struct job *j, int c)
{
    return j->cols[c];
}

/* Prepares the email of a job; false (with the channel's result set) when
 * there is nothing that can be sent. */
static bool email_prepare(struct job *j)
{
    const struct dm_template_var vars[] = {
        {"subscriber_id", jcol(j, DM_CLAIM_SUBSCRIBER)},
        {"confirm_url", jcol(j, DM_CLAIM_CONFIRM_URL)},
        {"deadline", jcol(j, DM_CLAIM_DEADLINE)},
        {"last_activity_at", jcol(j, DM_CLAIM_LAST_ACTIVITY)},
        {"rule", jcol(j, DM_CLAIM_RULE)},
        {"reason", jcol(j, DM_CLAIM_REASON)},
        {"type", j->type},
    };
    const struct dm_email_message m = {
        .id = j->id,
        .type = j->type,
        .to = jcol(j, DM_CLAIM_EMAIL),
        .locale = jcol(j, DM_CLAIM_LOCALE),
        .date = jcol(j, DM_CLAIM_DATE),
        .vars = vars,
        .nvars = sizeof vars / sizeof vars[0],
    };
    static const enum dm_ch_result results[] = {
        [DM_EMAIL_READY] = DM_CH_NONE,
        [DM_EMAIL_NONE] = DM_CH_OK,
        [DM_EMAIL_UNSENDABLE] = DM_CH_DEAD,
        [DM_EMAIL_NOT_NOW] = DM_CH_RETRY,
    };
    enum dm_email_prep prep;
    j->em = dm_email_prepare(j->o->env.cfg, &m, &prep, j->cause[DM_CH_EMAIL],
                             sizeof j->cause[DM_CH_EMAIL]);
    j->result[DM_CH_EMAIL] = results[prep];
    return j->em != NULL;
}

/* Starts the deliveries of one claimed row on every active channel that has
 * not delivered it yet. */
static void job_start(struct job *j)
{
    struct dm_outbox *o = j->o;
    const struct dm_config *cfg = o->env.cfg;

    o->running++;
    j->pending = 1; /* held until every transfer is started */
    if (active(o, DM_CH_WEBHOOK) && !j->done[DM_CH_WEBHOOK]) {
        char whid[40];
        snprintf(whid, sizeof whid, "msg_%s", j->id);
        j->wh = dm_webhook_request_new(cfg, whid, strtoll(jcol(j, DM_CLAIM_EPOCH), NULL, 10),
                                       jcol(j, DM_CLAIM_BODY));
        if (j->wh != NULL &&
            dm_transfers_add(o->transfers, dm_webhook_easy(j->wh), webhook_done, j)) {
            j->pending++;
        } else {
            j->result[DM_CH_WEBHOOK] = DM_CH_RETRY;
            snprintf(j->cause[DM_CH_WEBHOOK], sizeof j->cause[0], "cannot start the request");
        }
    }
    if (active(o, DM_CH_EMAIL) && !j->done[DM_CH_EMAIL] && email_prepare(j)) {
        if (dm_transfers_add(o->transfers, dm_email_easy(j->em), email_done, j)) {
            j->pending++;
        } else {
            j->result[DM_CH_EMAIL] = DM_CH_RETRY;
            snprintf(j->cause[DM_CH_EMAIL], sizeof j->cause[0], "cannot start the transaction");
        }
    }
    for (size_t i = 0; i < DM_CLAIM_COUNT; i++) {
        free(j->cols[i]);
        j->cols[i] = NULL;
    }
    transfer_ended(j);
}

/* Gives queued, unstarted rows back (pause, stop, a disabled channel, or a
 * claim too old to start safely): they stay due for any instance. A claim
 * read the cluster-wide pause when it was made, so it is started only
 * within one poll interval of that, the time every instance has to read a
 * pause (promise 7), even while a long pass keeps this one from polling. */
static void release_queue(struct dm_outbox *o, bool all)
{
    struct dm_strbuf ids = {0};
    int64_t now = dm_now_ms();
    int64_t max_age = dm_interval_ms(&o->env.cfg->webhook.timeout);
    int64_t poll = dm_interval_ms(&o->env.cfg->limits.poll_interval);
    if (poll > 0 && poll < max_age)
        max_age = poll;
    struct job *j, *next;
    for (j = TAILQ_FIRST(&o->queue); j != NULL; j = next) {
        next = TAILQ_NEXT(j, queued);
        if (!all && now - j->claimed_ms <= max_age)
            continue;
        TAILQ_REMOVE(&o->queue, j, queued);
        dm_strbuf_printf(&ids, "%s%s", ids.len ? "," : "{", j->id);
        LIST_REMOVE(j, all);
        o->njobs--;
        job_free(j);
    }
    if (ids.len == 0)
        return;
    dm_strbuf_str(&ids, "}");
    dm_claimer_release(o->claimer, ids.s);
    free(ids.s);
}

/* Starts queued rows while delivery slots are free. */
static void pump(struct dm_outbox *o)
{
    if (TAILQ_EMPTY(&o->queue))
        return;
    if (paused(o) || dry_run(o) || o->stopped ||
        (!active(o, DM_CH_WEBHOOK) && !active(o, DM_CH_EMAIL))) {
        release_queue(o, true);
        return;
    }
    release_queue(o, false);
    while (!TAILQ_EMPTY(&o->queue) && o->running < o->env.cfg->webhook.concurrency) {
        struct job *j = TAILQ_FIRST(&o->queue);
        TAILQ_REMOVE(&o->queue, j, queued);
        job_start(j);
    }
    claim(o); /* refill the queue before it runs dry */
}

/* Queues one claimed row. */
static void job_claimed(struct dm_outbox *o, const PGresult *res, int row)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        abort();
    j->o = o;
    for (int c = 0; c < DM_CLAIM_COUNT; c++)
        j->cols[c] = PQgetisnull(res, row, c) ? NULL : dm_xstrdup(PQgetvalue(res, row, c));
    snprintf(j->id, sizeof j->id, "%s", j->cols[DM_CLAIM_ID]);
    j->type = dm_xstrdup(j->cols[DM_CLAIM_TYPE]);
    j->attempts = atoi(j->cols[DM_CLAIM_ATTEMPTS]);
    j->done[DM_CH_WEBHOOK] = strcmp(j->cols[DM_CLAIM_DONE_WEBHOOK], "t") == 0;
    j->done[DM_CH_EMAIL] = strcmp(j->cols[DM_CLAIM_DONE_EMAIL], "t") == 0;
    if (j->cols[DM_CLAIM_STATED])
        j->stated_deadline = dm_xstrdup(j->cols[DM_CLAIM_STATED]);
    for (int ch = 0; ch < DM_CH_COUNT; ch++)
        j->retry_after_s[ch] = -1;
    j->claimed_ms = dm_now_ms();
    LIST_INSERT_HEAD(&o->jobs, j, all);
    o->njobs++;
    TAILQ_INSERT_TAIL(&o->queue, j, queued);
}

static void next_due_cb(void *arg, int64_t ms)
{
    arm_timer(arg, ms < 0 ? POLL_MAX_MS : ms);
}

/* The active channels as a text[] literal. */
static void active_array(const struct dm_outbox *o, char *buf, size_t len)
{
    bool have[DM_CH_COUNT];
    for (int ch = 0; ch < DM_CH_COUNT; ch++)
        have[ch] = active(o, ch);
    channel_array(have, buf, len);
}

/* Sets the timer to the next row that will become due. */
static void ask_next_due(struct dm_outbox *o)
{
    char chans[64];
    if (o->env.once || o->stopped)
        return;
    active_array(o, chans, sizeof chans);
    dm_claimer_next_due(o->claimer, chans, next_due_cb);
}

static void claim_cb(void *arg, const PGresult *res)
{
    struct dm_outbox *o = arg;
    if (res == NULL) /* connection lost; the state callback resumes */
        return;
    if (!dm_db_ok(res)) {
        arm_timer(o, POLL_MAX_MS);
        if (o->once_drain)
            o->env.hooks.fatal(o->env.hooks.owner, DM_EXIT_FAILURE);
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        job_claimed(o, res, i);
    pump(o);
    if (n > 0) {
        claim(o);
        return;
    }
    ask_next_due(o);
    maybe_drained(o);
}

/* Claims as many due rows as free delivery slots, unless deliveries are
 * paused, switched off or impossible right now. */
static void claim(struct dm_outbox *o)
{
    const struct dm_config *cfg = o->env.cfg;
    char chans[64], lease_s[64], within[128];

    if (dm_claimer_busy(o->claimer) || o->stopped)
        return;
    evtimer_del(o->timer);
    if (!active(o, DM_CH_WEBHOOK) && !active(o, DM_CH_EMAIL)) {
        maybe_drained(o);
        return;
    }
    if (dry_run(o)) {
        if (!o->dry_logged)
            dm_log_info("dry run: no message is delivered");
        o->dry_logged = true;
        maybe_drained(o);
        return;
    }
    if (paused(o)) {
        pump(o);
        arm_timer(o, POLL_MAX_MS);
        maybe_drained(o);
        return;
    }
    if (!dm_db_up(o->env.db))
        return; /* the state callback claims when it comes up */
    /* Claim ahead of the free slots, so that claims and outcome writes (a
     * round trip each) are shared by many deliveries; wait until a few
     * slot-fulls of room are free rather than claim rows one at a time. */
    int cap = cfg->webhook.concurrency;
    int room = QUEUE_FACTOR * cap - o->njobs;
    if (room <= 0 || (o->njobs > 0 && room < CLAIM_FACTOR * cap))
        return;
    active_array(o, chans, sizeof chans);
    lease(o, lease_s, sizeof lease_s);
    dm_interval_sql(&cfg->policy.confirm_within, within, sizeof within);
    const struct dm_claim_args a = {room, lease_s, chans, within};
    dm_claimer_claim(o->claimer, &a, claim_cb);
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
    struct dm_outbox *o = arg;
    dm_claimer_rewind(o->claimer); /* new messages may sit before the position */
    claim(o);
}

static void listen_cb(void *arg, PGresult *res)
{
    if (res != NULL && !dm_db_ok(res))
        dm_log_error("outbox: LISTEN dormant_outbox failed", DM_S("error", dm_db_error(res)));
}

static void on_state(void *arg, bool up)
{
    struct dm_outbox *o = arg;
    if (!up)
        return;
    if (!o->env.once && !send_stmt(o, &o->sql_listen, NULL, listen_cb))
        return;
    dm_claimer_rewind(o->claimer);
    /* Outcomes that could not be written while the connection was down. */
    dm_writer_flush(o->writer, 0);
    claim(o);
}

struct dm_outbox *dm_outbox_new(const struct dm_env *env)
{
    struct dm_outbox *o = dm_xcalloc(1, sizeof *o);
    char host[128] = "";
    o->env = *env;
    gethostname(host, sizeof host - 1);
    snprintf(o->me, sizeof o->me, "%s:%d", host, (int)getpid());
    o->transfers = dm_transfers_new(env->base, env->cfg->webhook.concurrency + 4);
    o->timer = evtimer_new(env->base, timer_cb, o);
    o->purge = dm_purge_new(env);
    o->writer = dm_writer_new(env->db, o->me, row_done, writer_idle, o);
    o->claimer = dm_claimer_new(env->db, o->me, POLL_MAX_MS, o);
    LIST_INIT(&o->jobs);
    TAILQ_INIT(&o->queue);
    build_sql(o);
    dm_db_on_state(env->db, on_state, o);
    dm_db_on_notify(env->db, on_notify, o);
    if (!configured(o, DM_CH_WEBHOOK) && !configured(o, DM_CH_EMAIL))
        dm_log_info("no webhook and no email configured: outbox-only mode, the application "
                    "delivers and acknowledges messages");
    return o;
}

void dm_outbox_reconfigure(struct dm_outbox *o, const struct dm_config *cfg,
                           const struct dm_sql_names *names)
{
    o->env.cfg = cfg;
    o->env.names = names;
    if (o->webhook_gone)
        dm_log_info("webhook delivery enabled again after reload");
    o->webhook_gone = false;
    o->env.metrics->endpoint_disabled[DM_CH_WEBHOOK] = false;
    o->dry_logged = false;
    dm_purge_reconfigure(o->purge, cfg, names);
    build_sql(o);
    claim(o);
}

void dm_outbox_kick(struct dm_outbox *o)
{
    if (o->env.once)
        o->once_drain = true;
    claim(o);
}

void dm_outbox_stop(struct dm_outbox *o)
{
    o->stopped = true;
    evtimer_del(o->timer);
    dm_purge_stop(o->purge);
    release_queue(o, true);
}

int dm_outbox_inflight(const struct dm_outbox *o)
{
    return o->njobs;
}

bool dm_outbox_webhook_disabled(const struct dm_outbox *o)
{
    return o->webhook_gone;
}

void dm_outbox_free(struct dm_outbox *o)
{
    if (o == NULL)
        return;
    dm_transfers_free(o->transfers);
    dm_purge_free(o->purge);
    dm_writer_free(o->writer);
    while (!LIST_EMPTY(&o->jobs)) {
        struct job *j = LIST_FIRST(&o->jobs);
        LIST_REMOVE(j, all);
        job_free(j);
    }
    event_free(o->timer);
    dm_claimer_free(o->claimer);
    dm_stmt_free(&o->sql_listen);
    free(o);
}
