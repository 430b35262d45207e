/* Growing strings, and {{key}} substitution into text templates. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dm_strbuf_add(struct dm_strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (ns == NULL)
            abort();
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void dm_strbuf_str(struct dm_strbuf *b, const char *s)
{
    dm_strbuf_add(b, s, strlen(s));
}

void dm_strbuf_printf(struct dm_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    dm_strbuf_add(b, s, (size_t)n);
    free(s);
}

char *dm_subst(const char *tmpl, const struct dm_subst *pairs, size_t npairs)
{
    struct dm_strbuf b = {0};
    const char *p = tmpl;
    char starts[32] = ""; /* the first characters of the keys */

    for (size_t i = 0; i < npairs && strlen(starts) + 1 < sizeof starts; i++)
        if (pairs[i].key[0] != '\0' && strchr(starts, pairs[i].key[0]) == NULL)
            starts[strlen(starts)] = pairs[i].key[0];
    dm_strbuf_add(&b, "", 0);
    while (*p) {
        size_t run = strcspn(p, starts);
        dm_strbuf_add(&b, p, run);
        p += run;
        if (*p == '\0')
            break;
        size_t i;
        for (i = 0; i < npairs; i++) {
            size_t k = strlen(pairs[i].key);
            if (strncmp(p, pairs[i].key, k) == 0) {
                dm_strbuf_str(&b, pairs[i].value);
                p += k;
                break;
            }
        }
        if (i == npairs)
            dm_strbuf_add(&b, p++, 1);
    }
    return b.s;
}
