/* Quoting names and values into SQL text, by PostgreSQL's rules. */
#include "quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static bool quote_part(struct dm_strbuf *b, const char *name, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "an empty name cannot be quoted");
        return false;
    }
    if (len > DM_IDENT_MAX) {
        snprintf(err, errlen, "name too long: %.*s... has %zu bytes, PostgreSQL keeps %d", 20, name,
                 len, DM_IDENT_MAX);
        return false;
    }
    dm_strbuf_str(b, "\"");
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '"')
            dm_strbuf_str(b, "\"");
        dm_strbuf_add(b, name + i, 1);
    }
    dm_strbuf_str(b, "\"");
    return true;
}

char *dm_quote_ident(const char *name, char *err, size_t errlen)
{
    struct dm_strbuf b = {0};
    if (!quote_part(&b, name, strlen(name), err, errlen)) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *dm_quote_qualified(const char *name, char *err, size_t errlen)
{
    struct dm_strbuf b = {0};
    const char *dot = strchr(name, '.');
    bool ok;
    if (dot == NULL) {
        ok = quote_part(&b, name, strlen(name), err, errlen);
    } else {
        ok = quote_part(&b, name, (size_t)(dot - name), err, errlen);
        dm_strbuf_str(&b, ".");
        ok = ok && quote_part(&b, dot + 1, strlen(dot + 1), err, errlen);
    }
    if (!ok) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *dm_quote_literal(const char *s)
{
    struct dm_strbuf b = {0};
    if (strchr(s, '\\') != NULL)
        dm_strbuf_str(&b, "E");
    dm_strbuf_str(&b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            dm_strbuf_add(&b, p, 1);
        dm_strbuf_add(&b, p, 1);
    }
    dm_strbuf_str(&b, "'");
    return b.s;
}
