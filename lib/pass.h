/* The lifecycle pass: guards, resume, request, remind, suspend, erase. */
#ifndef DM_PASS_H
#define DM_PASS_H

#include <stdbool.h>
#include <stddef.h>

struct dm_config;
struct dm_env;
struct dm_pass;
struct dm_sql_names;

/* Creates the pass scheduler on env->db (env is copied): it competes for
 * the scanning lease and, while it holds it, runs a pass every
 * limits.poll_interval (once, with env->once), telling env's
 * pass_finished hook after each, db_paused what control.paused says, and
 * fatal when --once cannot go on. */
struct dm_pass *dm_pass_new(const struct dm_env *env);

/* Whether the pass can run under next, as far as it knows the source now:
 * false (err: the configuration error) when next leaves a naive or date
 * time column without source.timezone. The reload rejects such a file. */
bool dm_pass_check_config(const struct dm_pass *p, const struct dm_config *next, char *err,
                          size_t errlen);

/* Takes the next configuration and its names (which the caller keeps
 * alive); the statements are rebuilt at the next set-up, between passes. */
void dm_pass_reconfigure(struct dm_pass *p, const struct dm_config *cfg,
                         const struct dm_sql_names *names);

/* Starts no further statement; the one in flight, if any, completes. */
void dm_pass_stop(struct dm_pass *p);

/* True while a statement of a pass is in flight. */
bool dm_pass_busy(const struct dm_pass *p);

void dm_pass_free(struct dm_pass *p);

#endif
