/* The HTTP server: confirmation page, /healthz and /metrics. */
#ifndef DM_HTTP_H
#define DM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct dm_daemon;
struct dm_http;

/* Binds http.listen and serves from the event loop. NULL (with err) when the
 * address cannot be bound. */
struct dm_http *dm_http_new(struct dm_daemon *d, char *err, size_t errlen);

/* Picks up a new configuration; rebinds when http.listen changed (keeping
 * the old socket when the new address cannot be bound). */
void dm_http_reconfigure(struct dm_http *h);

/* Stops accepting connections (graceful stop). */
void dm_http_stop(struct dm_http *h);

/* Requests waiting for the database (a graceful stop lets them finish, so
 * an answer being recorded is also shown to the subscriber). */
size_t dm_http_inflight(const struct dm_http *h);

void dm_http_free(struct dm_http *h);

#endif
