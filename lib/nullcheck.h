/* Source rows that source.eligible leaves out only because it is NULL:
 * a warning at start and from dormantd --check-config. */
#ifndef DM_NULLCHECK_H
#define DM_NULLCHECK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "dormant.h"

struct dm_config;
struct dm_db;
struct dm_sql_names;

/*
 * "s.tier <> 'staff'" is NULL, not true, where tier is NULL: such rows are
 * silently ineligible. The check is one statement (schema/eligible_nulls.sql)
 * whose cost does not grow with the table: it reads a sample of about
 * DM_NULLCHECK_SAMPLE rows, the whole table when it is no larger; its count
 * is exact then, and an estimate scaled to the table's rows otherwise (so a
 * NULL rarer than one row in the sample may go unseen: dormantctl preview
 * counts them all). It names the columns of source.table that the text of
 * source.eligible mentions and that are NULL in those rows. It never logs
 * a value of any row, only column names and counts. Nothing to check (and
 * nothing sent) when source.eligible is empty.
 */
#define DM_NULLCHECK_SAMPLE 100000

/* Sends the check on db; its answer is logged (one warning when rows are
 * left out; at debug when the check itself fails: it never stops
 * anything). Nothing of cfg or n is kept. False when nothing was sent (no
 * source.eligible, or db is not up). */
bool dm_nullcheck_send(struct dm_db *db, const struct dm_config *cfg,
                       const struct dm_sql_names *n) DM_MUST_CHECK;

/* For --check-config: connects to the database (at most 5 seconds unless
 * database.conninfo says otherwise), runs the check and writes at most one
 * line to out, "PATH: warning: ...", when rows are left out or when the
 * database could not be asked. Never an error: the file is valid either
 * way. */
void dm_nullcheck_print(const struct dm_config *cfg, FILE *out);

#endif
