/* The SQL of lib/sql/ made into statements for one configuration. */
#include "sql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "quote.h"
#include "strbuf.h"
#include "util.h"

static const char *const name_keys[DM_N_COUNT] = {
    [DM_N_S] = "S",
    [DM_N_SRC] = "SRC",
    [DM_N_ID] = "ID",
    [DM_N_EMAIL] = "EMAIL",
    [DM_N_LA] = "LA",
    [DM_N_CREATED] = "CREATED",
    [DM_N_BILLING] = "BILLING",
    [DM_N_LOCALE] = "LOCALE",
    [DM_N_ELIGIBLE] = "ELIGIBLE",
    [DM_N_ERASE_SET] = "ERASE_SET",
    [DM_N_SEQ] = "SEQ",
    [DM_N_ACTIVE] = "ACTIVE",
    [DM_N_SUSPENDED] = "SUSPENDED",
    [DM_N_IDX_LAST_ACTIVITY] = "IDX_LAST_ACTIVITY",
    [DM_N_IDX_NEVER_ACTIVE] = "IDX_NEVER_ACTIVE",
    [DM_N_ID_TYPE] = "ID_TYPE",
    [DM_N_LA_TS] = "LA_TS",
    [DM_N_CR_TS] = "CR_TS",
    [DM_N_LA_B] = "LA_B",
    [DM_N_LA_E] = "LA_E",
    [DM_N_CR_B] = "CR_B",
    [DM_N_CR_E] = "CR_E",
    [DM_N_NEWEST] = "NEWEST",
};

/* The name of an index dormant makes on the source table, quoted. The
 * server would cut a name longer than it keeps; this cuts it the same way
 * (at a character boundary) and says so in the name it quotes. */
static char *index_name(const char *table, const char *suffix)
{
    const char *base = strrchr(table, '.');
    char name[256], err[128];
    snprintf(name, sizeof name, "dormant_%s_%s", base ? base + 1 : table, suffix);
    size_t n = strlen(name);
    if (n > DM_IDENT_MAX) {
        n = DM_IDENT_MAX;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
        name[n] = '\0';
    }
    return dm_quote_ident(name, err, sizeof err);
}

bool dm_sql_names_build(struct dm_sql_names *n, const struct dm_config *cfg, char *err,
                        size_t errlen)
{
    memset(n, 0, sizeof *n);
    const struct {
        enum dm_name name;
        const char *key;
        const char *value;
    } idents[] = {
        {DM_N_S, "database.schema", cfg->database.schema},
        {DM_N_ID, "source.id", cfg->source.id},
        {DM_N_EMAIL, "source.email", cfg->source.email},
        {DM_N_LA, "source.last_activity_at", cfg->source.last_activity_at},
        {DM_N_CREATED, "source.created_at", cfg->source.created_at},
        {DM_N_BILLING, "source.billing.column", cfg->source.billing.column},
    };
    char why[256];
    for (size_t i = 0; i < sizeof idents / sizeof idents[0]; i++) {
        n->value[idents[i].name] = dm_quote_ident(idents[i].value, why, sizeof why);
        if (n->value[idents[i].name] == NULL) {
            snprintf(err, errlen, "%s: %s", idents[i].key, why);
            goto fail;
        }
    }
    n->value[DM_N_SRC] = dm_quote_qualified(cfg->source.table, why, sizeof why);
    if (n->value[DM_N_SRC] == NULL) {
        snprintf(err, errlen, "source.table: %s", why);
        goto fail;
    }
    struct dm_strbuf b = {0};
    if (cfg->source.locale[0] != '\0') {
        char *q = dm_quote_ident(cfg->source.locale, why, sizeof why);
        if (q == NULL) {
            snprintf(err, errlen, "source.locale: %s", why);
            goto fail;
        }
        dm_strbuf_printf(&b, "s.%s::text", q);
        free(q);
        n->value[DM_N_LOCALE] = b.s;
    } else {
        n->value[DM_N_LOCALE] = dm_xstrdup("NULL::text");
    }
    b = (struct dm_strbuf){0};
    dm_strbuf_str(&b, "");
    for (size_t i = 0; i < cfg->policy.erase_columns.n; i++) {
        char *q = dm_quote_ident(cfg->policy.erase_columns.items[i], why, sizeof why);
        if (q == NULL) {
            free(b.s);
            snprintf(err, errlen, "policy.erase_columns: %s", why);
            goto fail;
        }
        dm_strbuf_printf(&b, "%s%s = NULL", i > 0 ? ", " : "", q);
        free(q);
    }
    n->value[DM_N_ERASE_SET] = b.s;
    b = (struct dm_strbuf){0};
    if (cfg->source.eligible[0] != '\0')
        dm_strbuf_printf(&b, "(%s)", cfg->source.eligible);
    else
        dm_strbuf_str(&b, "true");
    n->value[DM_N_ELIGIBLE] = b.s;
    b = (struct dm_strbuf){0};
    dm_strbuf_printf(&b, "%s.outbox_id_seq", n->value[DM_N_S]);
    n->value[DM_N_SEQ] = dm_quote_literal(b.s);
    free(b.s);
    n->value[DM_N_ACTIVE] = dm_quote_literal(cfg->source.billing.active);
    n->value[DM_N_SUSPENDED] = dm_quote_literal(cfg->source.billing.suspended);
    n->value[DM_N_IDX_LAST_ACTIVITY] = index_name(cfg->source.table, "last_activity");
    n->value[DM_N_IDX_NEVER_ACTIVE] = index_name(cfg->source.table, "never_active");
    dm_sql_names_set_clock(n, cfg, NULL);
    return true;
fail:
    dm_sql_names_free(n);
    return false;
}

void dm_sql_names_set_id_type(struct dm_sql_names *n, const char *type)
{
    free(n->value[DM_N_ID_TYPE]);
    n->value[DM_N_ID_TYPE] = dm_xstrdup(type);
}

void dm_sql_names_set_clock(struct dm_sql_names *n, const struct dm_config *cfg,
                            const struct dm_clock *clock)
{
    const struct dm_clock instants = {DM_TIME_INSTANT, DM_TIME_INSTANT};
    if (clock == NULL)
        clock = &instants;
    char *zone = dm_quote_literal(cfg->source.timezone);
    char la_i[300], la_j[300], cr_i[300], cr_j[300], la_b[300], la_e[300], cr_b[300], cr_e[300];
    dm_clock_wrap(DM_CLOCK_INSTANT, clock->activity, zone, la_i, la_j, sizeof la_i);
    dm_clock_wrap(DM_CLOCK_INSTANT, clock->created, zone, cr_i, cr_j, sizeof cr_i);
    dm_clock_wrap(DM_CLOCK_BOUND, clock->activity, zone, la_b, la_e, sizeof la_b);
    dm_clock_wrap(DM_CLOCK_BOUND, clock->created, zone, cr_b, cr_e, sizeof cr_b);
    free(zone);
    const char *la = n->value[DM_N_LA], *cr = n->value[DM_N_CREATED];
    struct dm_strbuf v[DM_N_COUNT] = {{0}};
    dm_strbuf_printf(&v[DM_N_LA_TS], "%ss.%s%s", la_i, la, la_j);
    dm_strbuf_printf(&v[DM_N_CR_TS], "%ss.%s%s", cr_i, cr, cr_j);
    dm_strbuf_str(&v[DM_N_LA_B], la_b);
    dm_strbuf_str(&v[DM_N_LA_E], la_e);
    dm_strbuf_str(&v[DM_N_CR_B], cr_b);
    dm_strbuf_str(&v[DM_N_CR_E], cr_e);
    dm_strbuf_printf(&v[DM_N_NEWEST], "(SELECT %smax(s.%s)%s FROM %s s WHERE s.%s <= %snow()%s)",
                     la_i, la, la_j, n->value[DM_N_SRC], la, la_b, la_e);
    for (int i = DM_N_LA_TS; i <= DM_N_NEWEST; i++) {
        free(n->value[i]);
        n->value[i] = v[i].s;
    }
}

void dm_sql_names_free(struct dm_sql_names *n)
{
    for (int i = 0; i < DM_N_COUNT; i++)
        free(n->value[i]);
    memset(n, 0, sizeof *n);
}

/* Length of the {KEY} at p (the braces included), or 0 when p does not
 * start one: a '{', upper-case letters, digits or '_', a '}'. */
static size_t placeholder(const char *p)
{
    if (p[0] != '{' || !isupper((unsigned char)p[1]))
        return 0;
    size_t i = 1;
    while (isupper((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || p[i] == '_')
        i++;
    return p[i] == '}' ? i + 1 : 0;
}

char *dm_sql_compose(const char *tmpl, const struct dm_sql_slot *slots, size_t nslots)
{
    struct dm_strbuf b = {0};
    dm_strbuf_str(&b, "");
    for (const char *p = tmpl; *p;) {
        size_t len = placeholder(p);
        const struct dm_sql_slot *hit = NULL;
        for (size_t i = 0; len > 0 && i < nslots && hit == NULL; i++)
            if (strlen(slots[i].name) == len - 2 && strncmp(p + 1, slots[i].name, len - 2) == 0)
                hit = &slots[i];
        if (hit != NULL) {
            dm_strbuf_str(&b, hit->text);
            p += len;
        } else {
            dm_strbuf_add(&b, p, 1);
            p++;
        }
    }
    return b.s;
}

static void bug(const char *tmpl, const char *what, const char *p, size_t len)
{
    fprintf(stderr, "dormant: SQL bug: %s %.*s in:\n%s\n", what, (int)len, p, tmpl);
    abort();
}

/* Index in params of the $(name) at p (whose ')' is at end), or -1. */
static int param_index(const char *p, const char *end, const char *const *params)
{
    size_t len = (size_t)(end - p - 2);
    for (int k = 0; params != NULL && params[k] != NULL; k++)
        if (strlen(params[k]) == len && strncmp(p + 2, params[k], len) == 0)
            return k < DM_SQL_MAX_PARAMS ? k : -1;
    return -1;
}

void dm_sql_render(struct dm_stmt *st, const char *tmpl, const struct dm_sql_names *n,
                   const char *const *params)
{
    struct dm_strbuf b = {0};
    int number[DM_SQL_MAX_PARAMS] = {0};

    /* Which parameters the text uses, numbered in the order of params. */
    st->nparams = 0;
    for (const char *p = strstr(tmpl, "$("); p != NULL; p = strstr(p + 2, "$(")) {
        const char *end = strchr(p, ')');
        int k = end ? param_index(p, end, params) : -1;
        if (k < 0)
            bug(tmpl, "unknown parameter", p, end ? (size_t)(end - p + 1) : 2);
        number[k] = 1;
    }
    for (int k = 0; k < DM_SQL_MAX_PARAMS; k++)
        if (number[k]) {
            st->params[st->nparams++] = k;
            number[k] = st->nparams;
        }

    dm_strbuf_str(&b, "");
    for (const char *p = tmpl; *p;) {
        size_t len = placeholder(p);
        if (len > 0) {
            int k = 0;
            while (k < DM_N_COUNT &&
                   !(strlen(name_keys[k]) == len - 2 && strncmp(p + 1, name_keys[k], len - 2) == 0))
                k++;
            if (k == DM_N_COUNT)
                bug(tmpl, "unknown placeholder", p, len);
            if (n->value[k] == NULL)
                bug(tmpl, "placeholder not known yet", p, len);
            dm_strbuf_str(&b, n->value[k]);
            p += len;
            continue;
        }
        if (p[0] == '$' && p[1] == '(') {
            const char *end = strchr(p, ')');
            dm_strbuf_printf(&b, "$%d", number[param_index(p, end, params)]);
            p = end + 1;
            continue;
        }
        dm_strbuf_add(&b, p, 1);
        p++;
    }
    st->sql = b.s;
}

void dm_stmt_bind(const struct dm_stmt *st, const char *const *values, const char **out)
{
    for (int i = 0; i < st->nparams; i++)
        out[i] = values[st->params[i]];
}

void dm_stmt_free(struct dm_stmt *st)
{
    free(st->sql);
    st->sql = NULL;
    st->nparams = 0;
}
