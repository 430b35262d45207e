/* What dormantctl's commands share: connection, actor, errors, tables. */
#include "ctl_util.h"

#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "schema.h"
#include "strbuf.h"

void dm_ctl_actor(char *buf, size_t len)
{
    const char *name = getenv("SUDO_USER");
    if (name == NULL || name[0] == '\0')
        name = getenv("USER");
    if (name != NULL && name[0] != '\0') {
        snprintf(buf, len, "operator:%s", name);
        return;
    }
    struct passwd *pw = getpwuid(getuid());
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, len, "operator:%s", pw->pw_name);
    else
        snprintf(buf, len, "operator:%u", (unsigned)getuid());
}

/* One line of a server message: the first line, without its trailing newline. */
static void first_line(const char *msg, char *buf, size_t len)
{
    snprintf(buf, len, "%s", msg ? msg : "");
    buf[strcspn(buf, "\n")] = '\0';
}

int dm_ctl_open(struct dm_ctl *ctl, const struct dm_config *cfg, const char *cmd)
{
    char err[1024];
    memset(ctl, 0, sizeof *ctl);
    ctl->cfg = cfg;
    ctl->cmd = cmd;
    ctl->conn = dm_schema_connect(cfg, "dormantctl", err, sizeof err);
    if (ctl->conn == NULL) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        return DM_EXIT_UNAVAILABLE;
    }
    int rc = dm_schema_check(ctl->conn, cfg, err, sizeof err);
    if (rc != DM_EXIT_OK) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        dm_ctl_close(ctl);
        return rc;
    }
    /* Timestamps in output and JSON are UTC, like the messages' payloads. */
    PQclear(PQexec(ctl->conn, "SET TimeZone = 'UTC'"));
    dm_sql_ident(cfg->database.schema, ctl->schema, sizeof ctl->schema);
    dm_sql_ident(cfg->source.table, ctl->table, sizeof ctl->table);
    dm_sql_ident(cfg->source.id, ctl->col_id, sizeof ctl->col_id);
    dm_sql_ident(cfg->source.email, ctl->col_email, sizeof ctl->col_email);
    dm_sql_ident(cfg->source.created_at, ctl->col_created, sizeof ctl->col_created);
    dm_sql_ident(cfg->source.last_activity_at, ctl->col_activity, sizeof ctl->col_activity);
    if (cfg->source.locale[0] != '\0')
        dm_sql_ident(cfg->source.locale, ctl->col_locale, sizeof ctl->col_locale);
    dm_sql_ident(cfg->source.billing.column, ctl->col_billing, sizeof ctl->col_billing);
    dm_sql_literal(cfg->source.billing.active, ctl->lit_active, sizeof ctl->lit_active);
    dm_sql_literal(cfg->source.billing.suspended, ctl->lit_suspended, sizeof ctl->lit_suspended);
    dm_ctl_actor(ctl->actor, sizeof ctl->actor);

    char sql[512];
    snprintf(sql, sizeof sql, "SELECT id_type FROM %s.meta", ctl->schema);
    PGresult *r = PQexec(ctl->conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        first_line(PQresultErrorMessage(r), err, sizeof err);
        fprintf(stderr, "dormantctl %s: cannot read %s.meta: %s\n", cmd, cfg->database.schema, err);
        PQclear(r);
        dm_ctl_close(ctl);
        return DM_EXIT_CONFIG;
    }
    snprintf(ctl->id_type, sizeof ctl->id_type, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return DM_EXIT_OK;
}

void dm_ctl_close(struct dm_ctl *ctl)
{
    if (ctl->conn != NULL)
        PQfinish(ctl->conn);
    ctl->conn = NULL;
}

PGresult *dm_ctl_exec(struct dm_ctl *ctl, const char *sql, int nparams, const char *const *params,
                      const char *what, int *rc)
{
    PGresult *r = PQexecParams(ctl->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    char msg[512];
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    first_line(primary ? primary : PQerrorMessage(ctl->conn), msg, sizeof msg);
    if (PQstatus(ctl->conn) == CONNECTION_BAD || (state && strncmp(state, "08", 2) == 0)) {
        *rc = DM_EXIT_UNAVAILABLE;
        fprintf(stderr, "dormantctl %s: database unreachable: %s\n", ctl->cmd, msg);
    } else if (state && strncmp(state, "22", 2) == 0) {
        *rc = DM_EXIT_DATAERR; /* data exception: bad literal, bad timestamp */
        fprintf(stderr, "dormantctl %s: %s: %s\n", ctl->cmd, what, msg);
    } else {
        *rc = DM_EXIT_FAILURE;
        fprintf(stderr, "dormantctl %s: %s: %s\n", ctl->cmd, what, msg);
    }
    PQclear(r);
    return NULL;
}

char *dm_ctl_sql(const struct dm_ctl *ctl, const char *tmpl)
{
    const struct dm_subst subst[] = {
        {"@S@", ctl->schema},
        {"@T@", ctl->id_type},
        {"@TABLE@", ctl->table},
        {"@ID@", ctl->col_id},
        {"@EMAIL@", ctl->col_email},
        {"@CREATED@", ctl->col_created},
        {"@ACTIVITY@", ctl->col_activity},
        {"@LOCALE@", ctl->col_locale[0] ? ctl->col_locale : "NULL"},
        {"@BILLING@", ctl->col_billing},
        {"@ACTIVE@", ctl->lit_active},
        {"@SUSPENDED@", ctl->lit_suspended},
    };
    return dm_subst(tmpl, subst, sizeof subst / sizeof subst[0]);
}

PGresult *dm_ctl_query(struct dm_ctl *ctl, const char *tmpl, int nparams, const char *const *params,
                       const char *what, int *rc)
{
    char *sql = dm_ctl_sql(ctl, tmpl);
    PGresult *r = dm_ctl_exec(ctl, sql, nparams, params, what, rc);
    free(sql);
    return r;
}

bool dm_ctl_simple(struct dm_ctl *ctl, const char *sql)
{
    int rc;
    PGresult *r = dm_ctl_exec(ctl, sql, 0, NULL, sql, &rc);
    PQclear(r);
    return r != NULL;
}

int dm_ctl_find_subscriber(struct dm_ctl *ctl, const char *id, bool *in_source)
{
    char sql[2048];
    int rc = DM_EXIT_OK;
    /* The cast validates the literal: a bad one fails with SQLSTATE class 22. */
    snprintf(sql, sizeof sql,
             "SELECT EXISTS (SELECT 1 FROM %s WHERE %s = $1::%s),"
             " EXISTS (SELECT 1 FROM %s.account WHERE subscriber_id = $1::%s)"
             " OR EXISTS (SELECT 1 FROM %s.event WHERE subscriber_id = $1::%s)",
             ctl->table, ctl->col_id, ctl->id_type, ctl->schema, ctl->id_type, ctl->schema,
             ctl->id_type);
    const char *params[] = {id};
    PGresult *r = PQexecParams(ctl->conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && strncmp(state, "22", 2) == 0) {
            fprintf(stderr, "dormantctl %s: invalid subscriber id \"%s\" (source.id is %s)\n",
                    ctl->cmd, id, ctl->id_type);
            rc = DM_EXIT_DATAERR;
        } else {
            char msg[512];
            first_line(PQresultErrorMessage(r), msg, sizeof msg);
            rc = PQstatus(ctl->conn) == CONNECTION_BAD ? DM_EXIT_UNAVAILABLE : DM_EXIT_FAILURE;
            fprintf(stderr, "dormantctl %s: looking up subscriber %s: %s\n", ctl->cmd, id, msg);
        }
        goto out;
    }
    *in_source = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (!*in_source && strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        fprintf(stderr, "dormantctl %s: unknown subscriber %s\n", ctl->cmd, id);
        rc = DM_EXIT_DATAERR;
    }
out:
    PQclear(r);
    return rc;
}

/* Characters (not bytes) in a UTF-8 string. */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static void pad(FILE *out, const char *s, size_t w, bool last)
{
    fputs(s, out);
    if (last)
        return;
    for (size_t n = width(s); n < w + 2; n++)
        fputc(' ', out);
}

void dm_ctl_print_table(FILE *out, const PGresult *r, const char *const *titles, const char *indent)
{
    int nf = PQnfields(r), nt = PQntuples(r);
    if (nt == 0) {
        fprintf(out, "%s(none)\n", indent);
        return;
    }
    size_t *w = calloc((size_t)nf, sizeof *w);
    if (w == NULL)
        abort();
    for (int f = 0; f < nf; f++) {
        w[f] = width(titles ? titles[f] : PQfname(r, f));
        for (int t = 0; t < nt; t++) {
            size_t n = PQgetisnull(r, t, f) ? 1 : width(PQgetvalue(r, t, f));
            if (n > w[f])
                w[f] = n;
        }
    }
    fputs(indent, out);
    for (int f = 0; f < nf; f++)
        pad(out, titles ? titles[f] : PQfname(r, f), w[f], f == nf - 1);
    fputc('\n', out);
    for (int t = 0; t < nt; t++) {
        fputs(indent, out);
        for (int f = 0; f < nf; f++)
            pad(out, PQgetisnull(r, t, f) ? "-" : PQgetvalue(r, t, f), w[f], f == nf - 1);
        fputc('\n', out);
    }
    free(w);
}

void dm_ctl_print_record(FILE *out, const PGresult *r, const char *indent)
{
    size_t w = 0;
    int nf = PQnfields(r);
    for (int f = 0; f < nf; f++)
        if (width(PQfname(r, f)) > w)
            w = width(PQfname(r, f));
    for (int f = 0; f < nf; f++) {
        fputs(indent, out);
        pad(out, PQfname(r, f), w, false);
        fprintf(out, "%s\n", PQntuples(r) == 0 || PQgetisnull(r, 0, f) ? "-" : PQgetvalue(r, 0, f));
    }
}

bool dm_ctl_parse(const char *cmd, int argc, char **argv, const struct dm_ctl_flag *flags,
                  bool *json, const char **positional, int npos, const char *usage)
{
    enum { OPT_JSON = 1000 };
    struct option longopts[16];
    size_t n = 0;
    for (; flags && flags[n].name && n < 14; n++) {
        longopts[n] = (struct option){
            flags[n].name, flags[n].has_value ? required_argument : no_argument, NULL, (int)n + 1};
    }
    size_t nl = n;
    if (json != NULL) {
        *json = false;
        longopts[nl++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    }
    longopts[nl] = (struct option){NULL, 0, NULL, 0};

    optind = 0; /* full re-initialisation of GNU getopt */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == OPT_JSON) {
            *json = true;
        } else if (c >= 1 && (size_t)c <= n) {
            *flags[c - 1].value = flags[c - 1].has_value ? optarg : "1";
        } else if (c == ':') {
            fprintf(stderr, "dormantctl %s: option %s needs a value (usage: dormantctl %s %s)\n",
                    cmd, argv[optind - 1], cmd, usage);
            return false;
        } else {
            fprintf(stderr, "dormantctl %s: unknown option %s (usage: dormantctl %s %s)\n", cmd,
                    argv[optind - 1], cmd, usage);
            return false;
        }
    }
    int have = argc - optind;
    if (have != npos) {
        if (have > npos)
            fprintf(stderr, "dormantctl %s: unexpected argument \"%s\" (usage: dormantctl %s %s)\n",
                    cmd, argv[optind + npos], cmd, usage);
        else
            fprintf(stderr, "dormantctl %s: missing argument (usage: dormantctl %s %s)\n", cmd, cmd,
                    usage);
        return false;
    }
    for (int i = 0; i < npos; i++)
        positional[i] = argv[optind + i];
    return true;
}
