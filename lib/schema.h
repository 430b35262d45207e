/* dormant's own tables: creation, upgrades, and the check that they fit. */
#ifndef DM_SCHEMA_H
#define DM_SCHEMA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dormant.h"

struct dm_config;

/* The schema version this build writes and expects. */
#define DM_SCHEMA_VERSION 1

/* Quotes an identifier the way PQescapeIdentifier does (double quotes,
 * embedded quotes doubled); a dotted name "a.b" is quoted part by part.
 * Writes into buf (truncating) and returns it. */
char *dm_sql_ident(const char *name, char *buf, size_t len);

/* Quotes a string literal (single quotes doubled, E'' when backslashes). */
char *dm_sql_literal(const char *s, char *buf, size_t len);

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
int dm_schema_check(PGconn *conn, const struct dm_config *cfg, char *err, size_t errlen);

/* Opens a blocking connection for dormantctl; NULL (with err) when the
 * database cannot be reached. */
PGconn *dm_schema_connect(const struct dm_config *cfg, const char *appname, char *err,
                          size_t errlen);

#endif
