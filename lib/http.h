/* The HTTP server: confirmation page, /healthz and /metrics. */
#ifndef DM_HTTP_H
#define DM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct dm_config;
struct dm_env;
struct dm_http;
struct dm_sql_names;

/* Binds http.listen and serves from env's loop, on env->db (env is copied;
 * its paused and dry_run hooks decide what /healthz says and whether an
 * answer may be written). NULL (with err) when the address cannot be bound. */
struct dm_http *dm_http_new(const struct dm_env *env, char *err, size_t errlen);

/* Picks up a new configuration; rebinds when http.listen changed (keeping
 * the old socket when the new address cannot be bound). */
void dm_http_reconfigure(struct dm_http *h, const struct dm_config *cfg,
                         const struct dm_sql_names *names);

/* Stops accepting connections (graceful stop). */
void dm_http_stop(struct dm_http *h);

/* Requests waiting for the database (a graceful stop lets them finish, so
 * an answer being recorded is also shown to the subscriber). */
size_t dm_http_inflight(const struct dm_http *h);

void dm_http_free(struct dm_http *h);

#endif
