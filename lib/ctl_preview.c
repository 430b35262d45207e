/* dormantctl preview: who the next pass would move, by the pass's own SQL. */
#include "ctl_preview.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_util.h"
#include "guards.h"
#include "lifecycle.h"
#include "strbuf.h"

/* The actions an operator cares about, each made of one or more pass steps
 * (the three ways a request comes about share the action "request"). */
static const struct {
    const char *action;
    enum dm_step steps[4];
    int nsteps;
} actions[] = {
    {"request",
     {DM_STEP_REQUEST_RECHECK, DM_STEP_REQUEST_INACTIVE, DM_STEP_REQUEST_NEVER, DM_STEP_SWEEP},
     4},
    {"withdraw", {DM_STEP_WITHDRAW}, 1},
    {"remind", {DM_STEP_REMIND}, 1},
    {"suspend", {DM_STEP_SUSPEND}, 1},
    {"erase", {DM_STEP_ERASE}, 1},
    {"resume", {DM_STEP_RESUME}, 1},
    {"reactivate", {DM_STEP_REACTIVATE}, 1},
};
#define N_ACTIONS (sizeof actions / sizeof actions[0])

/* Runs one lifecycle statement (write disabled) with the given limit. */
static PGresult *run_stmt(struct dm_ctl *ctl, const struct dm_lifecycle *lc,
                          const struct dm_stmt *st, long limit, const char *what, int *rc)
{
    const char *values[DM_P_COUNT];
    char limit_buf[32];
    const struct dm_lc_call call = {.limit = limit, .write = false};
    dm_lifecycle_params(lc, st, &call, limit_buf, sizeof limit_buf, values);
    return dm_ctl_exec(ctl, st->sql, st->nparams, values, what, rc);
}

static long long num(const PGresult *r, int col, long long dflt)
{
    return PQgetisnull(r, 0, col) ? dflt : atoll(PQgetvalue(r, 0, col));
}

bool dm_ctl_read_guards(struct dm_ctl *ctl, const struct dm_lifecycle *lc, struct dm_guards *g,
                        int *rc)
{
    PGresult *r = run_stmt(ctl, lc, &lc->guards, 0, "reading the guards", rc);
    if (r == NULL)
        return false;
    dm_guards_read(g, r);
    PQclear(r);
    g->paused = g->paused_db;
    if (dm_guards_need_eligible(g, ctl->cfg)) {
        r = run_stmt(ctl, lc, &lc->eligible, 0, "counting eligible subscribers", rc);
        if (r == NULL)
            return false;
        dm_guards_set_eligible(g, num(r, 0, -1));
        PQclear(r);
    }
    dm_guards_decide(g, ctl->cfg);
    return true;
}

/* One action's total and its first rows. */
struct preview_action {
    long long total;
    long limit;        /* at most this many rows shown, over all the steps */
    PGresult *rows[4]; /* one per step; columns subscriber_id, action, rule, reason, since */
};

static bool read_action(struct dm_ctl *ctl, const struct dm_lifecycle *lc, size_t a, long limit,
                        struct preview_action *out, int *rc)
{
    long left = limit;
    out->limit = limit;
    for (int i = 0; i < actions[a].nsteps; i++) {
        enum dm_step s = actions[a].steps[i];
        if (lc->count[s].sql == NULL || lc->preview[s].sql == NULL)
            continue; /* the step is off under this configuration */
        PGresult *c = run_stmt(ctl, lc, &lc->count[s], limit, "counting", rc);
        if (c == NULL)
            return false;
        out->total += num(c, 0, 0);
        PQclear(c);
        if (left <= 0)
            continue;
        out->rows[i] = run_stmt(ctl, lc, &lc->preview[s], left, "previewing", rc);
        if (out->rows[i] == NULL)
            return false;
        left -= PQntuples(out->rows[i]);
    }
    return true;
}

/* What preview warns about: requests dead on arrival, rows that
 * source.eligible leaves out only for a NULL (-1: not counted). */
struct preview_warnings {
    long long dead;          /* of the requests checked */
    long long checked;       /* requests whose address was checked */
    long long eligible_null; /* source rows, up to 100000 */
    long long held_by_feed;  /* suspensions due but for the feed's horizon */
    char horizon[64];        /* the newest activity, ISO 8601 ("" if none) */
};

/* At most this many request candidates have their address checked. */
#define CHECK_MAX 100000

static bool read_warnings(struct dm_ctl *ctl, const struct dm_lifecycle *lc,
                          const struct preview_action *req, struct preview_warnings *w, int *rc)
{
    struct dm_strbuf ids = {0};
    dm_strbuf_str(&ids, "{");
    w->checked = 0;
    long left = req->total > CHECK_MAX ? CHECK_MAX : (long)req->total;
    for (int i = 0; i < actions[0].nsteps && left > 0; i++) {
        enum dm_step s = actions[0].steps[i];
        if (lc->preview[s].sql == NULL)
            continue;
        PGresult *r = run_stmt(ctl, lc, &lc->preview[s], left, "checking addresses", rc);
        if (r == NULL) {
            free(ids.s);
            return false;
        }
        for (int t = 0; t < PQntuples(r); t++, w->checked++) {
            dm_strbuf_printf(&ids, "%s\"", w->checked ? "," : "");
            for (const char *c = PQgetvalue(r, t, 0); *c; c++)
                dm_strbuf_printf(&ids, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
            dm_strbuf_printf(&ids, "\"");
        }
        left -= PQntuples(r);
        PQclear(r);
    }
    dm_strbuf_str(&ids, "}");
    static const char *const params[] = {"ids", "eligible_set", NULL};
    const char *values[] = {ids.s, ctl->cfg->source.eligible[0] ? "true" : "false"};
    PGresult *r =
        dm_ctl_query(ctl, DM_SQL_CTL_PREVIEW_WARNINGS, params, values, "checking addresses", rc);
    free(ids.s);
    if (r == NULL)
        return false;
    w->dead = num(r, 0, 0);
    w->eligible_null = num(r, 1, -1);
    w->held_by_feed = num(r, 2, 0);
    snprintf(w->horizon, sizeof w->horizon, "%s", PQgetvalue(r, 0, 3));
    PQclear(r);
    return true;
}

static void print_warnings(const struct preview_warnings *w)
{
    if (w->dead > 0)
        printf("warning: %lld of the %lld requests checked would be dead on arrival: no usable "
               "e-mail address (NULL, or not an address); they wait undeliverable and are "
               "never suspended\n",
               w->dead, w->checked);
    if (w->eligible_null > 0)
        printf("warning: source.eligible is NULL (not false) for %lld%s rows: a NULL in its "
               "columns leaves them out as ineligible; use coalesce() or IS DISTINCT FROM if "
               "they should be asked\n",
               w->eligible_null, w->eligible_null >= CHECK_MAX ? " or more" : "");
    if (w->held_by_feed > 0)
        printf("held: %lld suspensions wait for the activity feed to reach their deadlines "
               "(newest activity %s); they happen once it does\n",
               w->held_by_feed, w->horizon[0] ? w->horizon : "none");
}

/* What holds an action back under these guards, or NULL. The rate is not
 * a hold here: the requests it leaves for later are said as "only N now". */
static const char *held(size_t a, const struct dm_guards *g)
{
    enum dm_hold h = dm_guards_hold(g, actions[a].steps[0]);
    return h == DM_HOLD_RATE ? NULL : dm_hold_reason(h);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_value(FILE *out, const PGresult *r, int row, int col)
{
    char iso[32];
    if (PQgetisnull(r, row, col))
        fputs("null", out);
    else
        json_string(out, dm_ctl_iso_time(PQgetvalue(r, row, col), iso, sizeof iso));
}

/* The rows shown for an action: at most its limit over all its steps. */
static int rows_of(const struct preview_action *pa, int i, int shown)
{
    const PGresult *r = pa->rows[i];
    int n = r ? PQntuples(r) : 0;
    long room = pa->limit - shown;
    return room <= 0 ? 0 : n > room ? (int)room : n;
}

static void print_json(const struct dm_guards *g, const struct preview_action *pa,
                       const struct preview_warnings *w, const struct dm_config *cfg)
{
    char iso[32], accepted[32];
    printf("{\n  \"guards\": {\"paused\": %s, \"stale_activity\": %s, \"newest_activity\": ",
           g->paused ? "true" : "false", g->stale ? "true" : "false");
    if (g->newest[0])
        json_string(stdout, dm_ctl_iso_time(g->newest, iso, sizeof iso));
    else
        fputs("null", stdout);
    if (g->accepted >= 0)
        snprintf(accepted, sizeof accepted, "%lld", g->accepted);
    else
        snprintf(accepted, sizeof accepted, "null");
    printf(", \"backlog\": %lld, \"eligible\": %lld, \"backlog_accepted\": %s,"
           " \"backlog_tripped\": %s, \"requested_24h\": %lld, \"requests_remaining_24h\": %lld,"
           " \"max_backlog_fraction\": %g},\n  \"actions\": {",
           g->backlog, g->eligible, accepted, g->backlog_tripped ? "true" : "false",
           g->requested_24h < 0 ? 0 : g->requested_24h, g->remaining,
           cfg->limits.max_backlog_fraction);
    for (size_t a = 0; a < N_ACTIONS; a++) {
        printf("%s\n    \"%s\": {\"total\": %lld, \"held\": ", a ? "," : "", actions[a].action,
               pa[a].total);
        const char *h = held(a, g);
        if (h)
            json_string(stdout, h);
        else
            fputs("null", stdout);
        if (strcmp(actions[a].action, "request") == 0)
            printf(", \"this_pass_at_most\": %lld", g->remaining);
        printf(", \"subscribers\": [");
        bool first = true;
        int shown = 0;
        for (int i = 0; i < 4; i++) {
            const PGresult *r = pa[a].rows[i];
            int n = rows_of(&pa[a], i, shown);
            shown += n;
            for (int t = 0; t < n; t++) {
                printf("%s\n      {\"subscriber_id\": ", first ? "" : ",");
                json_value(stdout, r, t, 0);
                printf(", \"rule\": ");
                json_value(stdout, r, t, 2);
                printf(", \"reason\": ");
                json_value(stdout, r, t, 3);
                printf(", \"since\": ");
                json_value(stdout, r, t, 4);
                printf("}");
                first = false;
            }
        }
        printf("%s]}", first ? "" : "\n    ");
    }
    printf("\n  },\n  \"warnings\": {\"dead_on_arrival\": %lld, \"checked\": %lld,"
           " \"eligible_null\": ",
           w->dead, w->checked);
    if (w->eligible_null >= 0)
        printf("%lld", w->eligible_null);
    else
        printf("null");
    printf(", \"held_by_feed\": %lld, \"horizon\": ", w->held_by_feed);
    if (w->horizon[0])
        printf("\"%s\"}\n}\n", w->horizon);
    else
        printf("null}\n}\n");
}

static void print_text(const struct dm_guards *g, const struct preview_action *pa,
                       const struct dm_config *cfg)
{
    printf("preview of the next pass (nothing written; times in UTC)\n");
    printf("  paused           %s\n", g->paused ? "YES" : "no");
    char iso[32];
    printf("  activity feed    %s (newest activity %s)\n", g->stale ? "STALE" : "fresh",
           g->newest[0] ? dm_ctl_iso_time(g->newest, iso, sizeof iso) : "none");
    if (g->eligible >= 0)
        printf("  backlog          %lld of %lld eligible, limit %g%%%s%s\n", g->backlog,
               g->eligible, cfg->limits.max_backlog_fraction * 100.0,
               g->backlog_tripped ? ": TRIPPED" : "",
               g->accepted >= 0 ? " (an accepted backlog is on record)" : "");
    else
        printf("  backlog          %lld\n", g->backlog);
    printf("  rate             %lld requested in the last 24 h, %lld more allowed\n",
           g->requested_24h < 0 ? 0 : g->requested_24h, g->remaining);
    for (size_t a = 0; a < N_ACTIONS; a++) {
        const char *h = held(a, g);
        printf("%s: %lld%s%s", actions[a].action, pa[a].total, h ? ", held: " : "", h ? h : "");
        if (!h && strcmp(actions[a].action, "request") == 0 && pa[a].total > g->remaining)
            printf(", only %lld now (limits.max_requests_per_day)", g->remaining);
        int shown = 0;
        for (int i = 0; i < 4; i++)
            shown += rows_of(&pa[a], i, shown);
        if (pa[a].total > shown && shown > 0)
            printf(" (first %d shown; --limit N for more)", shown);
        printf("\n");
        if (shown == 0)
            continue;
        /* One table over the steps' rows: id, rule, reason. */
        size_t w_id = 2, w_rule = 4;
        for (int i = 0, seen = 0; i < 4; i++) {
            const PGresult *r = pa[a].rows[i];
            int n = rows_of(&pa[a], i, seen);
            seen += n;
            for (int t = 0; t < n; t++) {
                size_t w = strlen(PQgetvalue(r, t, 0));
                if (w > w_id)
                    w_id = w;
                w = PQgetisnull(r, t, 2) ? 1 : strlen(PQgetvalue(r, t, 2));
                if (w > w_rule)
                    w_rule = w;
            }
        }
        printf("  %-*s  %-*s  %s\n", (int)w_id, "ID", (int)w_rule, "RULE", "WHY");
        for (int i = 0, seen = 0; i < 4; i++) {
            const PGresult *r = pa[a].rows[i];
            int n = rows_of(&pa[a], i, seen);
            seen += n;
            for (int t = 0; t < n; t++)
                printf("  %-*s  %-*s  %s\n", (int)w_id, PQgetvalue(r, t, 0), (int)w_rule,
                       PQgetisnull(r, t, 2) ? "-" : PQgetvalue(r, t, 2),
                       PQgetisnull(r, t, 3) ? "-" : PQgetvalue(r, t, 3));
        }
    }
}

/* The one command to run next, after what preview showed. */
static const char *next_command(const struct dm_guards *g, const struct preview_action *pa)
{
    long long total = 0;
    for (size_t a = 0; a < N_ACTIONS; a++)
        total += pa[a].total;
    if (g->paused)
        return "dormantctl resume   (once the cause of the pause is dealt with)";
    if (g->backlog_tripped)
        return "dormantctl accept-backlog   (if the requests above are right)";
    if (g->stale)
        return "check what writes last_activity_at (limits.max_activity_lag), then "
               "dormantctl preview";
    if (total == 0)
        return "nothing: no one is due; dormantctl status shows the rest";
    return "nothing, or dormantctl pause to stop it: dormantd's next pass does the above "
           "(systemctl start dormantd if it is not running)";
}

int dm_ctl_preview(const struct dm_config *cfg, int argc, char **argv)
{
    const char *limit_text = "20";
    bool json;
    const struct dm_ctl_flag flags[] = {{"limit", true, &limit_text}, {NULL, false, NULL}};
    if (!dm_ctl_parse("preview", argc, argv, flags, &json, NULL, 0, "[--limit N] [--json]"))
        return DM_EXIT_USAGE;
    char *end;
    long limit = strtol(limit_text, &end, 10);
    if (*limit_text == '\0' || *end != '\0' || limit < 0 || limit > 1000000) {
        fprintf(stderr,
                "dormantctl preview: --limit wants a number from 0 to 1000000, not \"%s\"\n",
                limit_text);
        return DM_EXIT_USAGE;
    }
    struct dm_lifecycle lc;
    char err[512];
    struct dm_ctl ctl;
    struct preview_action pa[N_ACTIONS];
    struct dm_guards g;
    struct preview_warnings w;
    memset(&w, 0, sizeof w);
    memset(&lc, 0, sizeof lc);
    memset(pa, 0, sizeof pa);
    memset(&g, 0, sizeof g);
    int rc = dm_ctl_open(&ctl, cfg, "preview");
    if (rc != DM_EXIT_OK)
        return rc;
    if (!dm_lifecycle_build(cfg, &ctl.names, &lc, err, sizeof err)) {
        fprintf(stderr, "dormantctl preview: %s\n", err);
        dm_ctl_close(&ctl);
        return DM_EXIT_CONFIG;
    }
    /* Belt and braces: whatever a statement might write is rolled back. */
    if (!dm_ctl_simple(&ctl, DM_SQL_TX_BEGIN_SNAPSHOT)) {
        rc = DM_EXIT_FAILURE;
        goto out;
    }
    if (!dm_ctl_read_guards(&ctl, &lc, &g, &rc))
        goto out;
    for (size_t a = 0; a < N_ACTIONS; a++)
        if (!read_action(&ctl, &lc, a, limit, &pa[a], &rc))
            goto out;
    if (!read_warnings(&ctl, &lc, &pa[0], &w, &rc))
        goto out;
    if (json)
        print_json(&g, pa, &w, cfg);
    else {
        print_text(&g, pa, cfg);
        print_warnings(&w);
        printf("next: %s\n", next_command(&g, pa));
    }
out:
    if (ctl.conn != NULL)
        PQclear(PQexec(ctl.conn, dm_sql(DM_SQL_TX_ROLLBACK)));
    for (size_t a = 0; a < N_ACTIONS; a++)
        for (size_t i = 0; i < sizeof pa[a].rows / sizeof pa[a].rows[0]; i++)
            PQclear(pa[a].rows[i]);
    dm_ctl_close(&ctl);
    dm_lifecycle_free(&lc);
    return rc;
}
