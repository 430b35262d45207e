/* What dormantctl's commands share: connection, actor, errors, tables. */
#ifndef DM_CTL_UTIL_H
#define DM_CTL_UTIL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clock.h"
#include "dormant.h"
#include "sql.h"

struct dm_config;

/*
 * One command's session: an open connection to a migrated schema, the
 * quoted names its SQL needs, and who is acting. Built by dm_ctl_open()
 * and released by dm_ctl_close().
 */
struct dm_ctl {
    const struct dm_config *cfg;
    const char *cmd; /* the command's name, for messages ("dormantctl show: ...") */
    PGconn *conn;
    struct dm_sql_names names; /* quoted once; {ID_TYPE} as recorded by migrate */
    struct dm_clock clock;     /* how the source's time columns hold instants (names too) */
    char actor[300];           /* operator:<name> for the audit trail */
};

/*
 * Connects, checks that the schema is migrated to this build's version and
 * fills ctl. On failure prints one line to stderr and returns the exit code
 * (69 unreachable, 78 not migrated or a name that cannot be quoted);
 * DM_EXIT_OK on success.
 */
int dm_ctl_open(struct dm_ctl *ctl, const struct dm_config *cfg, const char *cmd) DM_MUST_CHECK;

void dm_ctl_close(struct dm_ctl *ctl);

/*
 * Formats "operator:<name>" for the audit trail. The name is the account
 * the process runs as (the real uid's passwd entry); $USER and $LOGNAME are
 * never consulted, since anyone can set them. Only as root, where nothing
 * could stop a forgery anyway, is the person behind it named: sudo's
 * SUDO_USER, else the login account the kernel keeps for the session
 * (/proc/self/loginuid). The event also records, beside it, the role the
 * database authenticated (db_user, set by a trigger from session_user).
 */
void dm_ctl_actor(char *buf, size_t len);

/*
 * Runs a statement with text parameters. On error prints
 * "dormantctl CMD: <what>: <server message>" and stores in *rc the exit code
 * the error deserves (65 for bad data such as an invalid id literal or
 * timestamp, 69 when the connection is lost, 1 otherwise); returns NULL.
 */
PGresult *dm_ctl_exec(struct dm_ctl *ctl, const char *sql, int nparams, const char *const *params,
                      const char *what, int *rc);

/*
 * dm_ctl_exec() of file f rendered for this session (lib/sql.h): params
 * names its $(name)s (NULL-terminated, or NULL for none), values gives
 * their values in the same order.
 */
PGresult *dm_ctl_query(struct dm_ctl *ctl, enum dm_sql_file f, const char *const *params,
                       const char *const *values, const char *what, int *rc);

/* Runs a parameterless utility statement (lib/sql/tx: BEGIN, COMMIT);
 * false on error. */
bool dm_ctl_simple(struct dm_ctl *ctl, enum dm_sql_file f);

/*
 * Resolves the text ID to a subscriber the database knows: it must cast to
 * the id type and exist in the source table or in dormant's account or
 * event tables. Returns DM_EXIT_OK, or prints
 * "dormantctl CMD: unknown subscriber ID" / "invalid subscriber id" and
 * returns 65 (or another exit code on database errors). *in_source tells
 * whether the source row exists.
 */
int dm_ctl_find_subscriber(struct dm_ctl *ctl, const char *id, bool *in_source) DM_MUST_CHECK;

/*
 * Prints a result as an aligned table: a header line of the given column
 * titles (NULL: the result's column names), then one line per row; NULLs
 * print as "-". Widths count characters, not bytes (UTF-8). indent is
 * prepended to every line. Nothing but "(none)" when there are no rows.
 */
void dm_ctl_print_table(FILE *out, const PGresult *r, const char *const *titles,
                        const char *indent);

/* Prints "label  value" lines aligned on the label column for every column
 * of row 0: the readable form of one record. */
void dm_ctl_print_record(FILE *out, const PGresult *r, const char *indent);

/*
 * A timestamp as PostgreSQL prints it in the UTC session of dormantctl
 * ("2026-11-29 03:07:01.350707+00") in the one format dormantctl shows,
 * ISO 8601 UTC to the second ("2026-11-29T03:07:01Z"), into buf; any other
 * text is returned as it is. Returns what to print.
 */
const char *dm_ctl_iso_time(const char *pg, char *buf, size_t len);

/* One flag a command accepts. */
struct dm_ctl_flag {
    const char *name;   /* long option name, without the dashes */
    bool has_value;     /* takes an argument */
    const char **value; /* set to the argument (has_value) or to "1" */
};

/*
 * Parses a command's own flags: flags lists the long options it takes
 * (terminated by a NULL name), and --json is accepted too when json is not
 * NULL. Reports an unknown flag, a missing value or a wrong number of
 * arguments as one line naming it and returns false (the command exits 64).
 * positional receives the npos remaining arguments, all required.
 */
bool dm_ctl_parse(const char *cmd, int argc, char **argv, const struct dm_ctl_flag *flags,
                  bool *json, const char **positional, int npos, const char *usage);

#endif
