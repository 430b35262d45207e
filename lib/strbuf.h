/* Growing strings, and {{key}} substitution into text templates. */
#ifndef DM_STRBUF_H
#define DM_STRBUF_H

#include <stddef.h>

#include "dormant.h"

/* A NUL-terminated string that grows as it is appended to. Start from
 * {0}; s stays NULL until the first append; free(s) when done. Allocation
 * failure aborts, as everywhere in libdormant. */
struct dm_strbuf {
    char *s;
    size_t len; /* bytes in s, without the NUL */
    size_t cap; /* bytes allocated */
};

void dm_strbuf_add(struct dm_strbuf *b, const char *s, size_t n);
void dm_strbuf_str(struct dm_strbuf *b, const char *s);
void dm_strbuf_printf(struct dm_strbuf *b, const char *fmt, ...) DM_PRINTF(2, 3);

/* One placeholder and what replaces it ("{{style}}" -> the style sheet).
 * (SQL has its own, lib/sql.h.) */
struct dm_subst {
    const char *key;
    const char *value;
};

/* Copies tmpl with every occurrence of each key replaced by its value
 * (first matching key wins at a position); newly allocated. Keys may start
 * with any character ("@S@", "{{style}}"); at most 31 distinct first
 * characters are looked for. */
char *dm_subst(const char *tmpl, const struct dm_subst *pairs, size_t npairs);

#endif
