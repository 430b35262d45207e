/* Small helpers every module wants: allocation that aborts, one line of a message. */
#ifndef DM_UTIL_H
#define DM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dormant.h"

/* As in the rest of libdormant, running out of memory aborts: these never
 * return NULL. */

/* strdup of s; NULL becomes "". */
char *dm_xstrdup(const char *s);

/* calloc of n elements of size bytes. */
void *dm_xcalloc(size_t n, size_t size);

/* printf into a new string. */
char *dm_xasprintf(const char *fmt, ...) DM_PRINTF(1, 2);

/* Milliseconds on the monotonic clock. */
int64_t dm_now_ms(void);

/* The first line of msg (a server message), without its newline, into buf;
 * NULL gives "". Returns buf. */
const char *dm_first_line(const char *msg, char *buf, size_t len);

#endif
