/* One clock: how the source's time columns become instants (DESIGN.md §1, promise 2). */
#ifndef DM_CLOCK_H
#define DM_CLOCK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

struct dm_config;
struct dm_sql_names;

/*
 * Every comparison dormant makes is between instants (timestamptz), so the
 * server's and the session's TimeZone never change an answer. A source time
 * column holds an instant in one of three ways:
 */
enum dm_time_kind {
    DM_TIME_INSTANT, /* timestamp with time zone: already an instant */
    DM_TIME_LOCAL,   /* timestamp without time zone: a wall-clock time in source.timezone
                      * (an ambiguous time at a clock change is the later instant) */
    DM_TIME_DATE,    /* date d: the start of d + 1 in source.timezone (the
                      * subscriber was active until the end of that day) */
};

/* The kinds of the two mapped time columns, read from the catalogue. */
struct dm_clock {
    enum dm_time_kind activity; /* source.last_activity_at */
    enum dm_time_kind created;  /* source.created_at */
};

/* The parameters of lib/sql/schema/time_columns.sql, which reads what
 * dm_clock_decide() needs, and their values for cfg and the quoted source
 * table (values must have room for 4). */
extern const char *const dm_clock_params[];
void dm_clock_values(const struct dm_config *cfg, const char *quoted_table, const char **values);

/*
 * Decides the kinds from that row. A `timestamp without time zone` or
 * `date` column with an empty source.timezone is a configuration error
 * (false, with a line naming the column and the server's TimeZone in err):
 * reading it in the wrong zone can suspend someone who watched, so there is
 * no silent default. So is a zone PostgreSQL does not know. Pure.
 */
bool dm_clock_decide(const struct dm_config *cfg, const char *activity_type,
                     const char *created_type, const char *server_tz, bool zone_known,
                     struct dm_clock *out, char *err, size_t errlen) DM_MUST_CHECK;

/* Runs time_columns.sql on a blocking connection and decides. Returns
 * DM_EXIT_OK, DM_EXIT_CONFIG (err: why), DM_EXIT_UNAVAILABLE or
 * DM_EXIT_FAILURE. */
int dm_clock_read(PGconn *conn, const struct dm_config *cfg, const struct dm_sql_names *n,
                  struct dm_clock *out, char *err, size_t errlen) DM_MUST_CHECK;

/* What dm_clock_wrap() makes of an expression. */
enum dm_clock_use {
    DM_CLOCK_INSTANT, /* a value of the column -> the instant it holds (timestamptz) */
    DM_CLOCK_BOUND,   /* an instant -> the value of the column's type to compare the
                       * column with: the statement converts the bound, not the column,
                       * so the source's indexes still serve. For a date column
                       * `col <= bound(B)` and `col > bound(B)` are exact; for local
                       * times too, except within the hour a clock goes back, where
                       * statements check the instant again. */
};

/* Writes into open and close (each of len bytes) the SQL text to put
 * around an expression for use on a column of kind k; zone is the quoted
 * literal of source.timezone. */
void dm_clock_wrap(enum dm_clock_use use, enum dm_time_kind k, const char *zone, char *open,
                   char *close, size_t len);

#endif
