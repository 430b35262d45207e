/* dormant's own tables: creation, upgrades, and the check that they fit. */
#ifndef DM_SCHEMA_H
#define DM_SCHEMA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dormant.h"
#include "sql_files.h"

struct dm_config;
struct dm_sql_names;

/* The schema version this build writes and expects: one per file of
 * lib/sql/migrations. */
#define DM_SCHEMA_VERSION DM_SQL_MIGRATION_COUNT

/*
 * Creates or upgrades the schema named in cfg (idempotent, one transaction,
 * serialized by an advisory lock), after checking that the source mapping
 * fits: the table and columns exist, the id column has a supported type
 * (bigint, integer, uuid, text), the billing column accepts the configured
 * values, and source.eligible plans. Reports the indexes the passes want on
 * the source table to out, and creates the missing ones CONCURRENTLY when
 * create_indexes is set. Returns an exit code; on failure err holds one line.
 */
int dm_schema_migrate(PGconn *conn, const struct dm_config *cfg, bool create_indexes, FILE *out,
                      char *err, size_t errlen);

/* Checks that the schema exists at DM_SCHEMA_VERSION or the next version
 * (commands other than migrate need it): migrations are expand/contract, so
 * a release works on its own schema and on the one the next release's
 * migrate leaves. Then that it was migrated for the source table and
 * columns cfg names, and that source.eligible plans. Returns an exit code;
 * err says why on failure (naming both tables when they differ). */
int dm_schema_check(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                    char *err, size_t errlen);

/* The source columns of cfg as the schema records them at migrate: a JSON
 * object by configuration key ({"id":"id","email":"email",...}); newly
 * allocated. */
char *dm_schema_mapping_json(const struct dm_config *cfg);

/* Reads the result of schema/mapping.sql: true when the schema was
 * migrated for the table and columns the configuration names now; else
 * false with one line in err naming both (schema and table are the
 * configured names, for the message). */
bool dm_schema_mapping_ok(const PGresult *r, const char *schema, const char *table, char *err,
                          size_t errlen);

/* Opens a blocking connection for dormantctl; NULL (with err) when the
 * database cannot be reached. */
PGconn *dm_schema_connect(const struct dm_config *cfg, const char *appname, char *err,
                          size_t errlen);

#endif
