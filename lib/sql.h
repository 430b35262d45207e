/* The SQL of lib/sql/ made into statements for one configuration. */
#ifndef DM_SQL_H
#define DM_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"
#include "sql_files.h"

struct dm_config;
struct dm_clock;

/*
 * How the files are written. Every statement dormant runs is a file under
 * lib/sql/<module>/, embedded at build time (cmake/embed_sql.cmake). Two
 * spellings are special, nothing else:
 *
 *   {NAME}    a name of the configuration, quoted (the table below), or a
 *             fragment a module composes in (dm_sql_compose: the steps of a
 *             pass are a candidate source, a decision and a write). Only
 *             upper-case letters, digits and '_' between the braces, so
 *             '{data,deadline}' and '{}' stay what they are.
 *   $(name)   a parameter: becomes $1, $2... numbered in the order of the
 *             list of names the module renders the file with (those the
 *             text uses). Its type is the cast written after it
 *             ($(limit)::integer), or what it meets (s.{BILLING} = $(active)).
 */
enum dm_name {
    DM_N_S,                 /* {S} the dormant schema: "dormant" */
    DM_N_SRC,               /* {SRC} the source table: "public"."subscribers" */
    DM_N_ID,                /* {ID} source columns, quoted */
    DM_N_EMAIL,             /* {EMAIL} */
    DM_N_LA,                /* {LA} last activity */
    DM_N_CREATED,           /* {CREATED} */
    DM_N_BILLING,           /* {BILLING} */
    DM_N_LOCALE,            /* {LOCALE} s."locale"::text, or NULL::text when unmapped */
    DM_N_ELIGIBLE,          /* {ELIGIBLE} (source.eligible), or true */
    DM_N_ERASE_SET,         /* {ERASE_SET} "col" = NULL, ... of policy.erase_columns */
    DM_N_SEQ,               /* {SEQ} literal naming the outbox id sequence */
    DM_N_ACTIVE,            /* {ACTIVE} literal of source.billing.active */
    DM_N_SUSPENDED,         /* {SUSPENDED} literal of source.billing.suspended */
    DM_N_IDX_LAST_ACTIVITY, /* {IDX_LAST_ACTIVITY} the source index migrate creates */
    DM_N_IDX_NEVER_ACTIVE,  /* {IDX_NEVER_ACTIVE} */
    DM_N_ID_TYPE,           /* {ID_TYPE} type of the source id (from the database, once known) */
    /* One clock (clock.h): how the source's time columns hold instants,
     * timestamptz until dm_sql_names_set_clock() says otherwise. */
    DM_N_LA_TS,  /* {LA_TS} the instant s.{LA} holds */
    DM_N_CR_TS,  /* {CR_TS} the instant s.{CREATED} holds */
    DM_N_LA_B,   /* {LA_B}...{LA_E} around an instant: the value of {LA}'s type */
    DM_N_LA_E,   /*   to compare the column with (bounds convert, columns do not) */
    DM_N_CR_B,   /* {CR_B}...{CR_E}: likewise for {CREATED} */
    DM_N_CR_E,   /* */
    DM_N_NEWEST, /* {NEWEST} the newest activity in the source, ignoring the
                  * future: the feed's horizon (promise 1), one index probe */
    DM_N_COUNT,
};

/* Every name of one configuration, quoted once per load. */
struct dm_sql_names {
    char *value[DM_N_COUNT]; /* NULL: not known (ID_TYPE before it is read) */
};

/* Quotes every name of cfg into n (dm_sql_names_free). False with a reason
 * in err when a name cannot be quoted (empty, or longer than PostgreSQL
 * keeps). */
bool dm_sql_names_build(struct dm_sql_names *n, const struct dm_config *cfg, char *err,
                        size_t errlen) DM_MUST_CHECK;

/* Sets {ID_TYPE}, the source id's type as the database formats it. */
void dm_sql_names_set_id_type(struct dm_sql_names *n, const char *type);

/* Sets the clock's names ({LA_TS} ... {NEWEST}) for the column kinds the
 * database reported (clock NULL: both timestamptz, as after build). */
void dm_sql_names_set_clock(struct dm_sql_names *n, const struct dm_config *cfg,
                            const struct dm_clock *clock);

void dm_sql_names_free(struct dm_sql_names *n);

/* Most parameters a statement takes. */
#define DM_SQL_MAX_PARAMS 24

/* One statement ready to send, and what its $1..$n stand for. */
struct dm_stmt {
    char *sql;                     /* NULL when the statement is off under this configuration */
    int nparams;                   /* number of $n */
    int params[DM_SQL_MAX_PARAMS]; /* $i+1 is the params[params[i]] of dm_sql_render */
};

/* A fragment for a {SLOT} of a composed statement. */
struct dm_sql_slot {
    const char *name; /* "LIMIT" for {LIMIT} */
    const char *text;
};

/* The text of a file. */
static inline const char *dm_sql(enum dm_sql_file f)
{
    return dm_sql_files[f];
}

/* tmpl with every {SLOT} of slots replaced by its text (other braces left
 * for dm_sql_render); newly allocated. */
char *dm_sql_compose(const char *tmpl, const struct dm_sql_slot *slots, size_t nslots);

/*
 * Renders tmpl into st: {NAME} from n, $(name) into numbered parameters.
 * params is the NULL-terminated list of the parameter names the caller
 * binds; those the text uses become $1, $2... in that order, so that a
 * statement using all of them takes its values in the list's order, and
 * dm_stmt_bind picks the used ones out of a full list of values. An unknown {NAME}, an unknown
 * $(name) or a name not known yet is a bug in the SQL: it aborts with the file's text named (the
 * golden test renders every file, so it fails first).
 */
void dm_sql_render(struct dm_stmt *st, const char *tmpl, const struct dm_sql_names *n,
                   const char *const *params);

/* The values to send: out[i] = values[st->params[i]], values indexed like
 * the params of dm_sql_render. */
void dm_stmt_bind(const struct dm_stmt *st, const char *const *values, const char **out);

void dm_stmt_free(struct dm_stmt *st);

#endif
