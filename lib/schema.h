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
 * migrate leaves. Returns an exit code; err says why on failure. */
int dm_schema_check(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                    char *err, size_t errlen);

/* Opens a blocking connection for dormantctl; NULL (with err) when the
 * database cannot be reached. */
PGconn *dm_schema_connect(const struct dm_config *cfg, const char *appname, char *err,
                          size_t errlen);

#endif
