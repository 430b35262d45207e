/* What dormantctl's commands share: connection, actor, errors, tables. */
#include "ctl_util.h"

#include <ctype.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "schema.h"
#include "util.h"

/* The passwd name of uid, else the number. */
static void account_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "%u", (unsigned)uid);
}

void dm_ctl_actor(char *buf, size_t len)
{
    char name[256];
    uid_t uid = getuid();
    account_name(uid, name, sizeof name);
    if (uid == 0) {
        const char *sudo = getenv("SUDO_USER");
        unsigned long login = 0;
        FILE *f = fopen("/proc/self/loginuid", "re");
        if (f != NULL) {
            if (fscanf(f, "%lu", &login) != 1)
                login = 0;
            fclose(f);
        }
        if (sudo != NULL && sudo[0] != '\0' && strpbrk(sudo, " \t\r\n") == NULL)
            snprintf(name, sizeof name, "%s", sudo);
        else if (login != 0 && login < 4294967295UL) /* (uid_t)-1: no login session */
            account_name((uid_t)login, name, sizeof name);
    }
    snprintf(buf, len, "operator:%s", name);
}

int dm_ctl_open(struct dm_ctl *ctl, const struct dm_config *cfg, const char *cmd)
{
    char err[1024];
    memset(ctl, 0, sizeof *ctl);
    ctl->cfg = cfg;
    ctl->cmd = cmd;
    if (!dm_sql_names_build(&ctl->names, cfg, err, sizeof err)) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        return DM_EXIT_CONFIG;
    }
    ctl->conn = dm_schema_connect(cfg, "dormantctl", err, sizeof err);
    if (ctl->conn == NULL) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        dm_ctl_close(ctl);
        return DM_EXIT_UNAVAILABLE;
    }
    int rc = dm_schema_check(ctl->conn, cfg, &ctl->names, err, sizeof err);
    if (rc != DM_EXIT_OK) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        dm_ctl_close(ctl);
        return rc;
    }
    PQclear(PQexec(ctl->conn, dm_sql(DM_SQL_CTL_SESSION)));
    rc = dm_clock_read(ctl->conn, cfg, &ctl->names, &ctl->clock, err, sizeof err);
    if (rc != DM_EXIT_OK) {
        fprintf(stderr, "dormantctl %s: %s\n", cmd, err);
        dm_ctl_close(ctl);
        return rc;
    }
    dm_sql_names_set_clock(&ctl->names, cfg, &ctl->clock);
    dm_ctl_actor(ctl->actor, sizeof ctl->actor);

    struct dm_stmt meta;
    dm_sql_render(&meta, dm_sql(DM_SQL_SCHEMA_META), &ctl->names, NULL);
    PGresult *r = PQexec(ctl->conn, meta.sql);
    dm_stmt_free(&meta);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        dm_first_line(PQresultErrorMessage(r), err, sizeof err);
        fprintf(stderr, "dormantctl %s: cannot read %s.meta: %s\n", cmd, cfg->database.schema, err);
        PQclear(r);
        dm_ctl_close(ctl);
        return DM_EXIT_CONFIG;
    }
    dm_sql_names_set_id_type(&ctl->names, PQgetvalue(r, 0, 1));
    PQclear(r);
    return DM_EXIT_OK;
}

void dm_ctl_close(struct dm_ctl *ctl)
{
    if (ctl->conn != NULL)
        PQfinish(ctl->conn);
    ctl->conn = NULL;
    dm_sql_names_free(&ctl->names);
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
    dm_first_line(primary ? primary : PQerrorMessage(ctl->conn), msg, sizeof msg);
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

PGresult *dm_ctl_query(struct dm_ctl *ctl, enum dm_sql_file f, const char *const *params,
                       const char *const *values, const char *what, int *rc)
{
    /* The fragments commands share (lib/sql/ctl/held_by_feed.sql). */
    const struct dm_sql_slot shared[] = {{"HELD_BY_FEED", dm_sql(DM_SQL_CTL_HELD_BY_FEED)}};
    struct dm_stmt st;
    const char *bound[DM_SQL_MAX_PARAMS];
    char *tmpl = dm_sql_compose(dm_sql(f), shared, sizeof shared / sizeof shared[0]);
    dm_sql_render(&st, tmpl, &ctl->names, params);
    free(tmpl);
    dm_stmt_bind(&st, values, bound);
    PGresult *r = dm_ctl_exec(ctl, st.sql, st.nparams, bound, what, rc);
    dm_stmt_free(&st);
    return r;
}

bool dm_ctl_simple(struct dm_ctl *ctl, enum dm_sql_file f)
{
    int rc;
    PGresult *r = dm_ctl_exec(ctl, dm_sql(f), 0, NULL, dm_sql(f), &rc);
    PQclear(r);
    return r != NULL;
}

int dm_ctl_find_subscriber(struct dm_ctl *ctl, const char *id, bool *in_source)
{
    static const char *const names[] = {"id", NULL};
    const char *values[] = {id};
    const char *bound[DM_SQL_MAX_PARAMS];
    struct dm_stmt st;
    int rc = DM_EXIT_OK;
    dm_sql_render(&st, dm_sql(DM_SQL_CTL_FIND_SUBSCRIBER), &ctl->names, names);
    dm_stmt_bind(&st, values, bound);
    PGresult *r = PQexecParams(ctl->conn, st.sql, st.nparams, NULL, bound, NULL, NULL, 0);
    dm_stmt_free(&st);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && strncmp(state, "22", 2) == 0) {
            fprintf(stderr, "dormantctl %s: invalid subscriber id \"%s\" (source.id is %s)\n",
                    ctl->cmd, id, ctl->names.value[DM_N_ID_TYPE]);
            rc = DM_EXIT_DATAERR;
        } else {
            char msg[512];
            dm_first_line(PQresultErrorMessage(r), msg, sizeof msg);
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

const char *dm_ctl_iso_time(const char *pg, char *buf, size_t len)
{
    /* YYYY-MM-DD HH:MM:SS, then an optional fraction, then +00 (UTC). */
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    size_t n = sizeof shape - 1;
    if (strlen(pg) < n || len < n + 2)
        return pg;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)pg[i]) : pg[i] != shape[i])
            return pg;
    const char *rest = pg + n;
    if (*rest == '.')
        for (rest++; isdigit((unsigned char)*rest); rest++)
            ;
    if (strcmp(rest, "+00") != 0 && strcmp(rest, "Z") != 0)
        return pg;
    snprintf(buf, len, "%.10sT%.8sZ", pg, pg + 11);
    return buf;
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
