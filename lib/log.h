/* Structured logging: logfmt or JSON lines to stderr, syslog or a file. */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

/* Severities, most severe first; a logger set to a level shows that level
 * and every more severe one. */
enum dm_log_level {
    DM_LOG_ERROR,
    DM_LOG_WARNING,
    DM_LOG_INFO,
    DM_LOG_DEBUG,
};

enum dm_log_format {
    DM_LOG_LOGFMT, /* ts=... level=info msg="..." key=value */
    DM_LOG_JSON,   /* {"ts":"...","level":"info","msg":"...","key":value} */
};

/* Kinds of value a field can carry. */
enum dm_field_type {
    DM_FIELD_END, /* terminates a field list */
    DM_FIELD_STR,
    DM_FIELD_INT,
    DM_FIELD_DBL,
    DM_FIELD_BOOL,
};

/* One key=value pair of a log line. Build with DM_S/DM_I/DM_D/DM_B. */
struct dm_field {
    const char *key;
    enum dm_field_type type;
    const char *s; /* DM_FIELD_STR; NULL prints as an empty string */
    long long i;   /* DM_FIELD_INT and DM_FIELD_BOOL */
    double d;      /* DM_FIELD_DBL */
};

#define DM_S(k, v) ((struct dm_field){.key = (k), .type = DM_FIELD_STR, .s = (v)})
#define DM_I(k, v) ((struct dm_field){.key = (k), .type = DM_FIELD_INT, .i = (long long)(v)})
#define DM_D(k, v) ((struct dm_field){.key = (k), .type = DM_FIELD_DBL, .d = (double)(v)})
#define DM_B(k, v) ((struct dm_field){.key = (k), .type = DM_FIELD_BOOL, .i = (v) ? 1 : 0})

/* Where and how lines go. The destination is "stderr", "syslog" or a file
 * path (opened for append, reopened by dm_log_reopen()). */
struct dm_log_settings {
    enum dm_log_level level;
    enum dm_log_format format;
    const char *destination;
    const char *ident; /* program name for syslog */
};

/* Applies settings; until the first call, lines go to stderr at info level
 * in logfmt. On failure (an unopenable file) the previous settings stay and
 * a reason is written to err. */
bool dm_log_configure(const struct dm_log_settings *s, char *err, size_t errlen) DM_MUST_CHECK;

/* Reopens a log file (log rotation, SIGHUP). Harmless for stderr/syslog. */
void dm_log_reopen(void);

/* Raises the level to debug regardless of configuration (the -v flag). */
void dm_log_force_debug(bool on);

/* Registers a string that must never appear in a log line (passwords,
 * webhook secrets); occurrences are replaced by "[redacted]". The string
 * is copied. dm_log_forget_secrets() drops them all (before a reload
 * registers the new configuration's). */
void dm_log_add_secret(const char *secret);
void dm_log_forget_secrets(void);

/* Releases everything the logger holds (debug builds, at exit). */
void dm_log_shutdown(void);

bool dm_log_enabled(enum dm_log_level level);
void dm_log_emit(enum dm_log_level level, const char *msg, const struct dm_field *fields);

/* printf-style message with no fields; the level is checked before formatting. */
void dm_logf(enum dm_log_level level, const char *fmt, ...) DM_PRINTF(2, 3);

/* dm_log(level, "message", DM_I("requested", 12), DM_S("table", t)):
 * the level is checked before anything is evaluated or formatted. */
#define dm_log(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (dm_log_enabled(level)) {                                                               \
            const struct dm_field dm_log_fields_[] = {__VA_OPT__(__VA_ARGS__, ){0}};               \
            dm_log_emit(level, msg, dm_log_fields_);                                               \
        }                                                                                          \
    } while (0)

#define dm_log_error(msg, ...)   dm_log(DM_LOG_ERROR, msg __VA_OPT__(, ) __VA_ARGS__)
#define dm_log_warning(msg, ...) dm_log(DM_LOG_WARNING, msg __VA_OPT__(, ) __VA_ARGS__)
#define dm_log_info(msg, ...)    dm_log(DM_LOG_INFO, msg __VA_OPT__(, ) __VA_ARGS__)
#define dm_log_debug(msg, ...)   dm_log(DM_LOG_DEBUG, msg __VA_OPT__(, ) __VA_ARGS__)

/* Parses "error", "warning", "info", "debug". */
bool dm_log_level_parse(const char *s, enum dm_log_level *out);
const char *dm_log_level_name(enum dm_log_level level);

/* Formats one line (without the trailing newline) into buf, as the logger
 * would, with a fixed timestamp; exposed for tests. Returns the length. */
size_t dm_log_format_line(char *buf, size_t len, enum dm_log_format format, const char *ts,
                          enum dm_log_level level, const char *msg, const struct dm_field *fields);

#endif
