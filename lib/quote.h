/* Quoting names and values into SQL text, by PostgreSQL's rules. */
#ifndef DM_QUOTE_H
#define DM_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

/* The longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes). A longer
 * name would be truncated by the server, silently naming something else. */
#define DM_IDENT_MAX 63

/*
 * Quotes one identifier the way PQescapeIdentifier does: in double quotes,
 * embedded double quotes doubled, so that any name (mixed case, spaces,
 * dots, reserved words) means exactly itself. Returns a malloc'd string, or
 * NULL with a reason in err when the name is empty or longer than
 * DM_IDENT_MAX bytes.
 */
char *dm_quote_ident(const char *name, char *err, size_t errlen);

/*
 * Quotes a relation name that may be schema-qualified: "schema.table"
 * becomes "schema"."table" (split at the first dot: a table name may not
 * contain one, a schema name may not either). NULL with err as above.
 */
char *dm_quote_qualified(const char *name, char *err, size_t errlen);

/* Quotes a string literal: single quotes doubled, E'' with backslashes
 * doubled when the text holds a backslash. Returns a malloc'd string. */
char *dm_quote_literal(const char *s);

#endif
