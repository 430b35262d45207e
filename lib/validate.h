/* A configuration checked against the database, from the event loop. */
#ifndef DM_VALIDATE_H
#define DM_VALIDATE_H

#include <stdbool.h>

#include "dormant.h"

struct dm_config;
struct dm_db;
struct dm_sql_names;

enum dm_validate_outcome {
    DM_VALID,     /* the schema was migrated for this table and these columns, eligible plans */
    DM_INVALID,   /* a configuration error; err says which, naming both tables */
    DM_UNCHECKED, /* the connection went away before the database could say */
    DM_MISSING,   /* the schema, or this version's part of it, is not there: migrate */
};

/* Called once per dm_validate_start() that returned true. */
typedef void (*dm_validate_fn)(void *arg, enum dm_validate_outcome outcome, const char *err);

/*
 * Asks the database, on db, whether cfg fits it: the source table and
 * columns are those the schema was migrated for (schema/mapping.sql) and
 * source.eligible plans (schema/eligible_plans.sql). Two statements queued
 * on db; fn is called after both. Nothing of cfg or n is kept. False,
 * calling nothing, when db is not up.
 */
bool dm_validate_start(struct dm_db *db, const struct dm_config *cfg, const struct dm_sql_names *n,
                       dm_validate_fn fn, void *arg) DM_MUST_CHECK;

#endif
