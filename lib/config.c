/* The configuration file: one validated, immutable struct per load. */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "localdate.h"
#include "template.h"

/* State of one load: where errors go, and whether one happened. Only the
 * first error is reported; later checks are skipped once one failed. */
struct loader {
    const char *path;
    char *err;
    size_t errlen;
    bool failed;
};

static void fail_at(struct loader *ld, int line, const char *fmt, ...) DM_PRINTF(3, 4);

static void fail_at(struct loader *ld, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (ld->failed)
        return;
    ld->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote values from the file: keep them to one line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (line > 0)
        snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line, msg);
    else
        snprintf(ld->err, ld->errlen, "%s: %s", ld->path, msg);
}

static int line_of(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

static char *xstrdup(const char *s)
{
    char *r = strdup(s ? s : "");
    if (r == NULL) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return r;
}

/* Rejects any key of group g that is not in allowed (NULL-terminated). */
static void check_keys(struct loader *ld, const config_setting_t *g, const char *where,
                       const char *const *allowed)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n && !ld->failed; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        bool known = false;
        for (const char *const *a = allowed; *a != NULL; a++)
            known = known || strcmp(*a, name) == 0;
        if (!known)
            fail_at(ld, line_of(s), "unknown key %s%s%s", where, *where ? "." : "", name);
    }
}

/* Looks up an optional group; a key of another type is an error. */
static const config_setting_t *group(struct loader *ld, const config_setting_t *root,
                                     const char *name)
{
    const config_setting_t *g = config_setting_get_member(root, name);
    if (g != NULL && !config_setting_is_group(g)) {
        fail_at(ld, line_of(g), "%s must be a group { ... }", name);
        return NULL;
    }
    return g;
}

static const config_setting_t *member(const config_setting_t *g, const char *name)
{
    return g ? config_setting_get_member(g, name) : NULL;
}

/* Reads string key g.name into *out (owned), with a default when absent. A
 * required key has def == NULL; its absence is reported at the group's
 * line. */
static void get_string(struct loader *ld, const config_setting_t *g, const char *gname,
                       const char *name, const char *def, char **out)
{
    const config_setting_t *s = member(g, name);
    if (s == NULL) {
        if (def == NULL)
            fail_at(ld, line_of(g), "missing required key %s.%s", gname, name);
        *out = xstrdup(def);
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail_at(ld, line_of(s), "%s.%s must be a string", gname, name);
        *out = xstrdup(def);
        return;
    }
    *out = xstrdup(config_setting_get_string(s));
    if (def == NULL && (*out)[0] == '\0')
        fail_at(ld, line_of(s), "%s.%s must not be empty", gname, name);
}

static void get_int(struct loader *ld, const config_setting_t *g, const char *gname,
                    const char *name, long long def, long long min, long long max, int *out)
{
    const config_setting_t *s = member(g, name);
    long long v = def;
    if (s != NULL) {
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
            fail_at(ld, line_of(s), "%s.%s must be an integer", gname, name);
            return;
        }
        v = config_setting_get_int64(s);
    }
    if (v < min || v > max)
        fail_at(ld, line_of(s), "%s.%s = %lld is out of range [%lld, %lld]", gname, name, v, min,
                max);
    *out = (int)v;
}

static void get_double(struct loader *ld, const config_setting_t *g, const char *gname,
                       const char *name, double def, double min_excl, double max, double *out)
{
    const config_setting_t *s = member(g, name);
    double v = def;
    if (s != NULL) {
        int t = config_setting_type(s);
        if (t == CONFIG_TYPE_FLOAT)
            v = config_setting_get_float(s);
        else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
            v = (double)config_setting_get_int64(s);
        else {
            fail_at(ld, line_of(s), "%s.%s must be a number", gname, name);
            return;
        }
    }
    if (!(v > min_excl && v <= max))
        fail_at(ld, line_of(s), "%s.%s = %g is out of range (%g, %g]", gname, name, v, min_excl,
                max);
    *out = v;
}

static void get_bool(struct loader *ld, const config_setting_t *g, const char *gname,
                     const char *name, bool def, bool *out)
{
    const config_setting_t *s = member(g, name);
    *out = def;
    if (s == NULL)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        fail_at(ld, line_of(s), "%s%s%s must be true or false", gname, *gname ? "." : "", name);
        return;
    }
    *out = config_setting_get_bool(s);
}

/* What a duration key may hold. */
enum span_rule {
    SPAN_POSITIVE, /* required, longer than zero */
    SPAN_ANY,      /* zero allowed */
    SPAN_OPTIONAL, /* "" disables it; otherwise longer than zero */
};

static void parse_span(struct loader *ld, const config_setting_t *s, const char *what,
                       const char *text, enum span_rule rule, struct dm_interval *out)
{
    char why[256];
    if (!dm_interval_parse(text, out, why, sizeof why)) {
        fail_at(ld, line_of(s), "%s: %s", what, why);
        return;
    }
    if (!out->set && rule != SPAN_OPTIONAL)
        fail_at(ld, line_of(s), "%s must not be empty", what);
    else if (out->set && rule != SPAN_ANY && !dm_interval_positive(out))
        fail_at(ld, line_of(s), "%s must be longer than zero", what);
}

static void get_span(struct loader *ld, const config_setting_t *g, const char *gname,
                     const char *name, const char *def, enum span_rule rule,
                     struct dm_interval *out)
{
    const config_setting_t *s = member(g, name);
    char what[128];
    const char *text = def;

    snprintf(what, sizeof what, "%s.%s", gname, name);
    if (s != NULL) {
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
            fail_at(ld, line_of(s), "%s must be a duration string such as \"30 days\"", what);
            return;
        }
        text = config_setting_get_string(s);
    }
    parse_span(ld, s ? s : g, what, text, rule, out);
}

/* Reads a list (or array) of duration strings; absent means the defaults. */
static void get_span_list(struct loader *ld, const config_setting_t *g, const char *gname,
                          const char *name, const char *const *defs, struct dm_interval_list *out)
{
    const config_setting_t *s = member(g, name);
    char what[128];
    size_t n = 0;

    snprintf(what, sizeof what, "%s.%s", gname, name);
    if (s != NULL && !config_setting_is_aggregate(s)) {
        fail_at(ld, line_of(s), "%s must be a list of durations [ \"...\", ... ]", what);
        return;
    }
    if (s != NULL)
        n = (size_t)config_setting_length(s);
    else
        while (defs[n] != NULL)
            n++;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    out->n = n;
    for (size_t i = 0; i < n && !ld->failed; i++) {
        const config_setting_t *e = s ? config_setting_get_elem(s, (unsigned)i) : NULL;
        if (e != NULL && config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail_at(ld, line_of(e), "%s[%zu] must be a duration string", what, i);
            return;
        }
        parse_span(ld, e ? e : g, what, e ? config_setting_get_string(e) : defs[i], SPAN_POSITIVE,
                   &out->items[i]);
    }
}

static void get_string_list(struct loader *ld, const config_setting_t *g, const char *gname,
                            const char *name, const char *const *defs, struct dm_string_list *out)
{
    const config_setting_t *s = member(g, name);
    size_t n = 0;

    if (s != NULL && !config_setting_is_aggregate(s)) {
        fail_at(ld, line_of(s), "%s.%s must be a list of strings", gname, name);
        return;
    }
    if (s != NULL)
        n = (size_t)config_setting_length(s);
    else
        while (defs[n] != NULL)
            n++;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = s ? config_setting_get_elem(s, (unsigned)i) : NULL;
        if (e != NULL && config_setting_type(e) != CONFIG_TYPE_STRING) {
            fail_at(ld, line_of(e), "%s.%s[%zu] must be a string", gname, name, i);
            out->items[i] = xstrdup("");
            continue;
        }
        out->items[i] = xstrdup(e ? config_setting_get_string(e) : defs[i]);
        if (out->items[i][0] == '\0')
            fail_at(ld, line_of(e), "%s.%s[%zu] must not be empty", gname, name, i);
    }
}

/* Makes a relative path relative to the configuration file's directory. */
static char *resolve(const struct dm_config *cfg, const char *p)
{
    if (p[0] == '\0' || p[0] == '/')
        return xstrdup(p);
    size_t n = strlen(cfg->dir) + strlen(p) + 2;
    char *r = malloc(n);
    if (r == NULL)
        abort();
    snprintf(r, n, "%s/%s", cfg->dir, p);
    return r;
}

static void resolve_in_place(const struct dm_config *cfg, char **p)
{
    char *r = resolve(cfg, *p);
    free(*p);
    *p = r;
}

/* Reads a small secret file whole, trailing newlines removed. */
static char *read_secret(struct loader *ld, const config_setting_t *s, const char *what,
                         const char *path)
{
    FILE *f = fopen(path, "re");
    char buf[4096];
    size_t n;

    if (f == NULL) {
        fail_at(ld, line_of(s), "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    bool too_long = !feof(f);
    fclose(f);
    if (too_long) {
        fail_at(ld, line_of(s), "%s %s: longer than %zu bytes", what, path, sizeof buf - 1);
        return NULL;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return xstrdup(buf);
}

bool dm_config_decode_whsec(const char *text, unsigned char **key, size_t *len)
{
    static const char prefix[] = "whsec_";
    size_t plen = sizeof prefix - 1;

    if (strncmp(text, prefix, plen) != 0)
        return false;
    const char *b64 = text + plen;
    size_t blen = strlen(b64);
    if (blen == 0 || blen % 4 != 0)
        return false;
    unsigned char *out = malloc(blen);
    if (out == NULL)
        abort();
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)blen);
    if (n < 0) {
        free(out);
        return false;
    }
    if (b64[blen - 1] == '=')
        n--;
    if (b64[blen - 2] == '=')
        n--;
    /* EVP_DecodeBlock() skips blanks and takes '=' anywhere as zero bits:
     * accept only what encodes back to exactly the same text. */
    unsigned char *again = malloc(blen + 1);
    if (again == NULL)
        abort();
    bool canonical =
        n >= 0 && EVP_EncodeBlock(again, out, n) == (int)blen && memcmp(again, b64, blen) == 0;
    free(again);
    /* The spec's secrets are 24 to 64 bytes; under 128 bits is a mistake. */
    if (!canonical || n < 16) {
        OPENSSL_cleanse(out, blen);
        free(out);
        return false;
    }
    *key = out;
    *len = (size_t)n;
    return true;
}

/* Splits "host:port" or "[v6]:port". */
static bool parse_listen(const char *text, char **host, int *port)
{
    const char *colon;
    size_t hlen;
    const char *h = text;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return false;
        h = text + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL)
            return false;
        hlen = (size_t)(colon - text);
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || p < 0 || p > 65535 || hlen == 0)
        return false;
    *host = strndup(h, hlen);
    *port = (int)p;
    return *host != NULL;
}

static bool valid_identifier(const char *s)
{
    if (*s == '\0')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"')
            return false;
    return true;
}

static void load_database(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {"conninfo", "schema", NULL};
    const config_setting_t *g = group(ld, root, "database");
    if (g == NULL && !ld->failed)
        fail_at(ld, 0, "missing required group database");
    if (g)
        check_keys(ld, g, "database", keys);
    get_string(ld, g, "database", "conninfo", NULL, &cfg->database.conninfo);
    get_string(ld, g, "database", "schema", "dormant", &cfg->database.schema);
    if (!ld->failed) {
        char *why = NULL;
        PQconninfoOption *opts = PQconninfoParse(cfg->database.conninfo, &why);
        if (opts == NULL) {
            /* libpq's message may quote the string, password and all: say only where. */
            fail_at(ld, line_of(member(g, "conninfo")),
                    "database.conninfo is not a valid libpq connection string");
            PQfreemem(why);
        }
        PQconninfoFree(opts);
    }
    if (!ld->failed && !valid_identifier(cfg->database.schema))
        fail_at(ld, line_of(member(g, "schema")), "database.schema is not a valid identifier");
}

static void load_source(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {
        "table",  "id",       "email",    "created_at", "last_activity_at",
        "locale", "timezone", "eligible", "billing",    NULL};
    static const char *const bkeys[] = {"column", "active", "suspended", NULL};
    const config_setting_t *g = group(ld, root, "source");
    if (g == NULL && !ld->failed)
        fail_at(ld, 0, "missing required group source");
    if (g)
        check_keys(ld, g, "source", keys);
    get_string(ld, g, "source", "table", NULL, &cfg->source.table);
    get_string(ld, g, "source", "id", "id", &cfg->source.id);
    get_string(ld, g, "source", "email", "email", &cfg->source.email);
    get_string(ld, g, "source", "created_at", "created_at", &cfg->source.created_at);
    get_string(ld, g, "source", "last_activity_at", "last_activity_at",
               &cfg->source.last_activity_at);
    get_string(ld, g, "source", "locale", "", &cfg->source.locale);
    get_string(ld, g, "source", "timezone", "", &cfg->source.timezone);
    get_string(ld, g, "source", "eligible", "", &cfg->source.eligible);

    const config_setting_t *b = member(g, "billing");
    if (b != NULL && !config_setting_is_group(b))
        fail_at(ld, line_of(b), "source.billing must be a group { ... }");
    else if (b != NULL)
        check_keys(ld, b, "source.billing", bkeys);
    const config_setting_t *bg = b && config_setting_is_group(b) ? b : NULL;
    get_string(ld, bg, "source.billing", "column", "billing_status", &cfg->source.billing.column);
    get_string(ld, bg, "source.billing", "active", "active", &cfg->source.billing.active);
    get_string(ld, bg, "source.billing", "suspended", "suspended", &cfg->source.billing.suspended);
    if (ld->failed)
        return;

    const struct {
        const char *key;
        const char *value;
        bool optional;
    } idents[] = {
        {"table", cfg->source.table, false},
        {"id", cfg->source.id, false},
        {"email", cfg->source.email, false},
        {"created_at", cfg->source.created_at, false},
        {"last_activity_at", cfg->source.last_activity_at, false},
        {"locale", cfg->source.locale, true},
        {"billing.column", cfg->source.billing.column, false},
    };
    for (size_t i = 0; i < sizeof idents / sizeof idents[0]; i++) {
        if (idents[i].optional && idents[i].value[0] == '\0')
            continue;
        if (!valid_identifier(idents[i].value)) {
            const char *k = idents[i].key;
            const config_setting_t *s =
                strncmp(k, "billing.", 8) == 0 ? member(bg, k + 8) : member(g, k);
            fail_at(ld, line_of(s ? s : g), "source.%s is not a valid identifier", k);
            return;
        }
    }
    if (strcmp(cfg->source.billing.active, cfg->source.billing.suspended) == 0)
        fail_at(ld, line_of(bg ? bg : g),
                "source.billing.active and source.billing.suspended must differ");
    /* A zone name as PostgreSQL knows them ("UTC", "Europe/Paris"); the
     * database says whether it exists, when dormant first connects. */
    const char *tz = cfg->source.timezone;
    if (tz[0] != '\0' && (strlen(tz) > 64 || tz[strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                           "abcdefghijklmnopqrstuvwxyz"
                                                           "0123456789/_+-")] != '\0'))
        fail_at(ld, line_of(member(g, "timezone")),
                "source.timezone is not a time zone name (such as \"UTC\" or \"Europe/Paris\")");
}

static void load_policy(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {
        "inactive_after", "never_active_after", "min_account_age", "confirm_within",
        "reminders",      "erase_after",        "erase_columns",   NULL};
    static const char *const def_reminders[] = {"7 days", "1 day", NULL};
    static const char *const def_erase[] = {"email", NULL};
    const config_setting_t *g = group(ld, root, "policy");
    struct dm_interval_list *r = &cfg->policy.reminders;

    if (g)
        check_keys(ld, g, "policy", keys);
    get_span(ld, g, "policy", "inactive_after", "2 years", SPAN_POSITIVE,
             &cfg->policy.inactive_after);
    get_span(ld, g, "policy", "never_active_after", "1 year", SPAN_OPTIONAL,
             &cfg->policy.never_active_after);
    get_span(ld, g, "policy", "min_account_age", "30 days", SPAN_ANY, &cfg->policy.min_account_age);
    get_span(ld, g, "policy", "confirm_within", "30 days", SPAN_POSITIVE,
             &cfg->policy.confirm_within);
    get_span_list(ld, g, "policy", "reminders", def_reminders, r);
    get_span(ld, g, "policy", "erase_after", "", SPAN_OPTIONAL, &cfg->policy.erase_after);
    get_string_list(ld, g, "policy", "erase_columns", def_erase, &cfg->policy.erase_columns);
    if (ld->failed)
        return;

    /* Reminders are kept longest offset first, the order they fall due. */
    for (size_t i = 1; i < r->n; i++)
        for (size_t j = i;
             j > 0 && dm_interval_usec(&r->items[j - 1]) < dm_interval_usec(&r->items[j]); j--) {
            struct dm_interval t = r->items[j];
            r->items[j] = r->items[j - 1];
            r->items[j - 1] = t;
        }
    const config_setting_t *rs = member(g, "reminders");
    int64_t within = dm_interval_usec(&cfg->policy.confirm_within);
    for (size_t i = 0; i < r->n; i++) {
        if (dm_interval_usec(&r->items[i]) >= within)
            fail_at(ld, line_of(rs ? rs : g),
                    "policy.reminders: every offset must be shorter than policy.confirm_within");
        else if (i > 0 && dm_interval_usec(&r->items[i]) == dm_interval_usec(&r->items[i - 1]))
            fail_at(ld, line_of(rs ? rs : g), "policy.reminders: duplicate offset");
    }
    for (size_t i = 0; i < cfg->policy.erase_columns.n; i++) {
        const char *c = cfg->policy.erase_columns.items[i];
        const config_setting_t *es = member(g, "erase_columns");
        if (!valid_identifier(c))
            fail_at(ld, line_of(es), "policy.erase_columns: \"%s\" is not a valid identifier", c);
        else if (strcmp(c, cfg->source.id) == 0 || strcmp(c, cfg->source.billing.column) == 0)
            fail_at(ld, line_of(es),
                    "policy.erase_columns must not name the id or the billing column (%s)", c);
    }
}

static void load_limits(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {
        "poll_interval",        "batch_size",   "max_requests_per_day", "max_activity_lag",
        "max_backlog_fraction", "sweep_period", "keep_messages",        NULL};
    const config_setting_t *g = group(ld, root, "limits");
    if (g)
        check_keys(ld, g, "limits", keys);
    get_span(ld, g, "limits", "poll_interval", "1 minute", SPAN_POSITIVE,
             &cfg->limits.poll_interval);
    get_int(ld, g, "limits", "batch_size", 1000, 1, 100000, &cfg->limits.batch_size);
    get_int(ld, g, "limits", "max_requests_per_day", 100000, 1, 1000000000,
            &cfg->limits.max_requests_per_day);
    get_span(ld, g, "limits", "max_activity_lag", "1 day", SPAN_POSITIVE,
             &cfg->limits.max_activity_lag);
    get_double(ld, g, "limits", "max_backlog_fraction", 0.05, 0.0, 1.0,
               &cfg->limits.max_backlog_fraction);
    get_span(ld, g, "limits", "sweep_period", "1 day", SPAN_POSITIVE, &cfg->limits.sweep_period);
    get_span(ld, g, "limits", "keep_messages", "90 days", SPAN_POSITIVE,
             &cfg->limits.keep_messages);
}

static void load_http(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {"listen", "public_url", "trusted_proxies", NULL};
    static const char *const def_proxies[] = {"127.0.0.1", "::1", NULL};
    const config_setting_t *g = group(ld, root, "http");
    if (g)
        check_keys(ld, g, "http", keys);
    get_string(ld, g, "http", "listen", "127.0.0.1:8470", &cfg->http.listen);
    get_string(ld, g, "http", "public_url", "https://account.example.com/dormant",
               &cfg->http.public_url);
    get_string_list(ld, g, "http", "trusted_proxies", def_proxies, &cfg->http.trusted_proxies);
    if (ld->failed)
        return;
    for (size_t i = 0; i < cfg->http.trusted_proxies.n; i++) {
        struct dm_cidr c;
        if (!dm_cidr_parse(cfg->http.trusted_proxies.items[i], &c)) {
            const config_setting_t *list = member(g, "trusted_proxies");
            fail_at(ld, line_of(list ? config_setting_get_elem(list, (unsigned)i) : NULL),
                    "http.trusted_proxies[%zu]: \"%s\" is not an address or a network"
                    " (\"192.0.2.10\", \"10.0.0.0/8\", \"fd00::/8\")",
                    i, cfg->http.trusted_proxies.items[i]);
            return;
        }
    }
    if (!parse_listen(cfg->http.listen, &cfg->http.listen_host, &cfg->http.listen_port)) {
        fail_at(ld, line_of(member(g, "listen")),
                "http.listen must be \"host:port\" (e.g. \"127.0.0.1:8470\")");
        cfg->http.listen_host = xstrdup("");
        return;
    }
    char *u = cfg->http.public_url;
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        fail_at(ld, line_of(member(g, "public_url")),
                "http.public_url must start with https:// or http://");
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
}

static void load_webhook(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {"url",         "secret_file", "timeout",
                                       "concurrency", "retry",       NULL};
    static const char *const def_retry[] = {"5 seconds", "5 minutes", "30 minutes", "2 hours",
                                            "5 hours",   "10 hours",  "14 hours",   "20 hours",
                                            "24 hours",  NULL};
    const config_setting_t *g = group(ld, root, "webhook");
    if (g)
        check_keys(ld, g, "webhook", keys);
    get_string(ld, g, "webhook", "url", "", &cfg->webhook.url);
    get_string(ld, g, "webhook", "secret_file", DM_SYSCONFDIR "/webhook.secret",
               &cfg->webhook.secret_file);
    get_span(ld, g, "webhook", "timeout", "15 seconds", SPAN_POSITIVE, &cfg->webhook.timeout);
    get_int(ld, g, "webhook", "concurrency", 16, 1, 1024, &cfg->webhook.concurrency);
    get_span_list(ld, g, "webhook", "retry", def_retry, &cfg->webhook.retry);
    if (ld->failed)
        return;
    resolve_in_place(cfg, &cfg->webhook.secret_file);
    if (cfg->webhook.url[0] == '\0')
        return;
    const char *u = cfg->webhook.url;
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
        fail_at(ld, line_of(member(g, "url")), "webhook.url must start with https:// or http://");
        return;
    }
    const config_setting_t *sf = member(g, "secret_file");
    char *text = read_secret(ld, sf ? sf : g, "webhook.secret_file", cfg->webhook.secret_file);
    if (text == NULL)
        return;
    if (!dm_config_decode_whsec(text, &cfg->webhook.secret, &cfg->webhook.secret_len))
        fail_at(ld, line_of(sf ? sf : g),
                "webhook.secret_file %s does not hold a whsec_<base64> secret of 16 bytes or more",
                cfg->webhook.secret_file);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}

static void load_email(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {"smtp_url",      "from",     "username",
                                       "password_file", "starttls", "templates",
                                       "retry",         "timezone", NULL};
    static const char *const def_retry[] = {"5 minutes", "30 minutes", "2 hours", "5 hours",
                                            "10 hours",  "24 hours",   NULL};
    const config_setting_t *g = group(ld, root, "email");
    char *starttls = NULL;

    if (g)
        check_keys(ld, g, "email", keys);
    get_string(ld, g, "email", "smtp_url", "", &cfg->email.smtp_url);
    get_string(ld, g, "email", "from", "Example <no-reply@example.com>", &cfg->email.from);
    get_string(ld, g, "email", "username", "", &cfg->email.username);
    get_string(ld, g, "email", "password_file", "", &cfg->email.password_file);
    get_string(ld, g, "email", "starttls", "required", &starttls);
    get_string(ld, g, "email", "templates", DM_DATADIR "/templates", &cfg->email.templates);
    get_span_list(ld, g, "email", "retry", def_retry, &cfg->email.retry);
    get_string(ld, g, "email", "timezone", "UTC", &cfg->email.timezone);
    cfg->email.password = xstrdup("");
    if (!ld->failed && !dm_localdate_zone_ok(cfg->email.timezone))
        fail_at(ld, line_of(member(g, "timezone") ? member(g, "timezone") : g),
                "email.timezone \"%s\" is not a time zone name such as \"Europe/Paris\"",
                cfg->email.timezone);
    if (!ld->failed) {
        if (strcmp(starttls, "required") == 0)
            cfg->email.starttls = DM_STARTTLS_REQUIRED;
        else if (strcmp(starttls, "opportunistic") == 0)
            cfg->email.starttls = DM_STARTTLS_OPPORTUNISTIC;
        else if (strcmp(starttls, "never") == 0)
            cfg->email.starttls = DM_STARTTLS_NEVER;
        else
            fail_at(ld, line_of(member(g, "starttls")),
                    "email.starttls must be \"required\", \"opportunistic\" or \"never\"");
    }
    free(starttls);
    if (ld->failed)
        return;
    resolve_in_place(cfg, &cfg->email.password_file);
    resolve_in_place(cfg, &cfg->email.templates);
    if (cfg->email.smtp_url[0] == '\0')
        return;
    const char *u = cfg->email.smtp_url;
    if (strncmp(u, "smtp://", 7) != 0 && strncmp(u, "smtps://", 8) != 0) {
        fail_at(ld, line_of(member(g, "smtp_url")),
                "email.smtp_url must start with smtp:// or smtps://");
        return;
    }
    if (cfg->email.password_file[0] != '\0') {
        const config_setting_t *pf = member(g, "password_file");
        char *pw = read_secret(ld, pf, "email.password_file", cfg->email.password_file);
        if (pw != NULL) {
            free(cfg->email.password);
            cfg->email.password = pw;
        }
    }
    if (ld->failed)
        return;
    char why[512];
    if (!dm_template_check_dir(cfg->email.templates, why, sizeof why))
        fail_at(ld, line_of(member(g, "templates") ? member(g, "templates") : g), "%s", why);
}

static void load_log(struct loader *ld, struct dm_config *cfg, const config_setting_t *root)
{
    static const char *const keys[] = {"level", "destination", "format", NULL};
    const config_setting_t *g = group(ld, root, "log");
    char *level = NULL, *format = NULL;

    if (g)
        check_keys(ld, g, "log", keys);
    get_string(ld, g, "log", "level", "info", &level);
    get_string(ld, g, "log", "destination", "stderr", &cfg->log.destination);
    get_string(ld, g, "log", "format", "logfmt", &format);
    if (!ld->failed && !dm_log_level_parse(level, &cfg->log.level))
        fail_at(ld, line_of(member(g, "level")),
                "log.level must be \"error\", \"warning\", \"info\" or \"debug\"");
    if (!ld->failed) {
        if (strcmp(format, "logfmt") == 0)
            cfg->log.format = DM_LOG_LOGFMT;
        else if (strcmp(format, "json") == 0)
            cfg->log.format = DM_LOG_JSON;
        else
            fail_at(ld, line_of(member(g, "format")), "log.format must be \"logfmt\" or \"json\"");
    }
    if (!ld->failed && strcmp(cfg->log.destination, "stderr") != 0 &&
        strcmp(cfg->log.destination, "syslog") != 0) {
        if (cfg->log.destination[0] == '\0')
            fail_at(ld, line_of(member(g, "destination")), "log.destination must not be empty");
        else
            resolve_in_place(cfg, &cfg->log.destination);
    }
    free(level);
    free(format);
}

struct dm_config *dm_config_load(const char *path, char *err, size_t errlen)
{
    static const char *const top[] = {"database", "source", "policy", "limits",  "http",
                                      "webhook",  "email",  "log",    "dry_run", NULL};
    struct loader ld = {.path = path, .err = err, .errlen = errlen};
    struct dm_config *cfg = calloc(1, sizeof *cfg);
    config_t lc;

    if (cfg == NULL)
        abort();
    cfg->refs = 1;
    cfg->path = xstrdup(path);
    const char *slash = strrchr(path, '/');
    cfg->dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
    if (cfg->dir[0] == '\0') {
        free(cfg->dir);
        cfg->dir = xstrdup("/");
    }

    config_init(&lc);
    config_set_include_dir(&lc, cfg->dir);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        fail_at(&ld, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    int ok = config_read(&lc, f);
    fclose(f);
    if (!ok) {
        fail_at(&ld, config_error_line(&lc), "%s", config_error_text(&lc));
        goto fail;
    }
    const config_setting_t *root = config_root_setting(&lc);
    check_keys(&ld, root, "", top);
    load_database(&ld, cfg, root);
    load_source(&ld, cfg, root);
    load_policy(&ld, cfg, root);
    load_limits(&ld, cfg, root);
    load_http(&ld, cfg, root);
    load_webhook(&ld, cfg, root);
    load_email(&ld, cfg, root);
    load_log(&ld, cfg, root);
    get_bool(&ld, root, "", "dry_run", false, &cfg->dry_run);
    if (ld.failed)
        goto fail;
    config_destroy(&lc);
    return cfg;
fail:
    config_destroy(&lc);
    dm_config_free(cfg);
    return NULL;
}

static void free_strings(struct dm_string_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

const struct dm_config *dm_config_ref(const struct dm_config *cfg)
{
    ((struct dm_config *)cfg)->refs++;
    return cfg;
}

void dm_config_unref(const struct dm_config *cfg)
{
    dm_config_free((struct dm_config *)cfg);
}

void dm_config_free(struct dm_config *cfg)
{
    if (cfg == NULL || --cfg->refs > 0)
        return;
    free(cfg->path);
    free(cfg->dir);
    free(cfg->database.conninfo);
    free(cfg->database.schema);
    free(cfg->source.table);
    free(cfg->source.id);
    free(cfg->source.email);
    free(cfg->source.created_at);
    free(cfg->source.last_activity_at);
    free(cfg->source.locale);
    free(cfg->source.timezone);
    free(cfg->source.eligible);
    free(cfg->source.billing.column);
    free(cfg->source.billing.active);
    free(cfg->source.billing.suspended);
    free(cfg->policy.reminders.items);
    free_strings(&cfg->policy.erase_columns);
    free(cfg->http.listen);
    free(cfg->http.listen_host);
    free(cfg->http.public_url);
    free_strings(&cfg->http.trusted_proxies);
    free(cfg->webhook.url);
    free(cfg->webhook.secret_file);
    if (cfg->webhook.secret != NULL)
        OPENSSL_cleanse(cfg->webhook.secret, cfg->webhook.secret_len);
    free(cfg->webhook.secret);
    free(cfg->webhook.retry.items);
    free(cfg->email.smtp_url);
    free(cfg->email.from);
    free(cfg->email.username);
    free(cfg->email.password_file);
    if (cfg->email.password != NULL)
        OPENSSL_cleanse(cfg->email.password, strlen(cfg->email.password));
    free(cfg->email.password);
    free(cfg->email.templates);
    free(cfg->email.timezone);
    free(cfg->email.retry.items);
    free(cfg->log.destination);
    free(cfg);
}

void dm_config_register_secrets(const struct dm_config *cfg)
{
    PQconninfoOption *opts = PQconninfoParse(cfg->database.conninfo, NULL);
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
            dm_log_add_secret(o->val);
    PQconninfoFree(opts);
    dm_log_add_secret(cfg->email.password);
}

struct dm_log_settings dm_config_log_settings(const struct dm_config *cfg, const char *ident)
{
    return (struct dm_log_settings){
        .level = cfg->log.level,
        .format = cfg->log.format,
        .destination = cfg->log.destination,
        .ident = ident,
    };
}
