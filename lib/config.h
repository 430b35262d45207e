/* The configuration file: one validated, immutable struct per load. */
#ifndef DM_CONFIG_H
#define DM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"
#include "interval.h"
#include "log.h"

/* email.starttls */
enum dm_starttls {
    DM_STARTTLS_REQUIRED,      /* refuse to send without TLS */
    DM_STARTTLS_OPPORTUNISTIC, /* use TLS when the server offers it */
    DM_STARTTLS_NEVER,         /* plain SMTP (local relays, tests) */
};

/* A list of durations (policy.reminders, webhook.retry, email.retry). */
struct dm_interval_list {
    struct dm_interval *items;
    size_t n;
};

/* A list of strings (policy.erase_columns). */
struct dm_string_list {
    char **items;
    size_t n;
};

/*
 * Everything the file says, checked. Built by dm_config_load() and never
 * changed afterwards: a reload builds a new one and swaps the pointer, so
 * modules read the current configuration at use time and keep no pointers
 * into it across returns to the event loop, unless they own a reference
 * (dm_config_ref(): a pass keeps its configuration). Every string is owned and
 * non-NULL ("" when a key is optional and empty).
 */
struct dm_config {
    int refs;   /* owners: one from dm_config_load(), one per dm_config_ref() */
    char *path; /* the file as given */
    char *dir;  /* its directory, for relative paths */

    struct {
        char *conninfo; /* libpq connection string or URI */
        char *schema;   /* where dormant keeps its tables */
    } database;

    struct {
        char *table; /* possibly schema-qualified: "public.subscribers" */
        char *id;
        char *email;
        char *created_at;
        char *last_activity_at;
        char *locale;   /* "" = no locale column */
        char *timezone; /* zone of timestamp-without-time-zone and date columns; "" = none */
        char *eligible; /* "" = everyone; trusted SQL predicate otherwise */
        struct {
            char *column;
            char *active;
            char *suspended;
        } billing;
    } source;

    struct {
        struct dm_interval inactive_after;
        struct dm_interval never_active_after; /* unset = rule disabled */
        struct dm_interval min_account_age;
        struct dm_interval confirm_within;
        struct dm_interval_list reminders; /* offsets before the deadline, longest first */
        struct dm_interval erase_after;    /* unset = erasure disabled */
        struct dm_string_list erase_columns;
    } policy;

    struct {
        struct dm_interval poll_interval;
        int batch_size;
        int max_requests_per_day;
        struct dm_interval max_activity_lag;
        double max_backlog_fraction;
        struct dm_interval sweep_period;  /* every source row examined at least this often */
        struct dm_interval keep_messages; /* delivered or dead outbox rows kept this long */
    } limits;

    struct {
        char *listen;      /* "host:port" as written */
        char *listen_host; /* parsed host ("127.0.0.1", "::1") */
        int listen_port;
        char *public_url; /* base of confirmation links, no trailing slash */
        /* Peers whose X-Forwarded-For is believed: addresses or networks
         * ("10.0.0.0/8"), each checked by dm_cidr_parse(). */
        struct dm_string_list trusted_proxies;
    } http;

    struct {
        char *url;             /* "" = webhook channel off */
        char *secret_file;     /* resolved path */
        unsigned char *secret; /* decoded whsec_ key; NULL when url is "" */
        size_t secret_len;
        struct dm_interval timeout;
        int concurrency;
        struct dm_interval_list retry;
    } webhook;

    struct {
        char *smtp_url; /* "" = email channel off */
        char *from;
        char *username;
        char *password_file; /* resolved path, "" when none */
        char *password;      /* read from password_file; "" when none */
        enum dm_starttls starttls;
        char *templates; /* resolved directory */
        char *timezone;  /* IANA zone of the dates in messages and pages ("UTC") */
        struct dm_interval_list retry;
    } email;

    struct {
        enum dm_log_level level;
        char *destination; /* "stderr", "syslog" or a resolved file path */
        enum dm_log_format format;
    } log;

    bool dry_run;
};

/*
 * Reads and validates FILE. On success returns a new configuration; on
 * failure returns NULL and writes one line "FILE:LINE: message" (or
 * "FILE: message" when no line applies) to err.
 */
struct dm_config *dm_config_load(const char *path, char *err, size_t errlen) DM_MUST_CHECK;

/*
 * A configuration lives as long as its longest owner: a pass keeps the one
 * it started with while a reload swaps a new one in for everything else
 * (DESIGN section 1 promise 7). dm_config_ref() adds an owner and returns
 * cfg; dm_config_free() (or dm_config_unref(), for a const pointer) drops
 * one and frees on the last. The count is bookkeeping, not content: a
 * configuration stays unchanged whoever holds it.
 */
const struct dm_config *dm_config_ref(const struct dm_config *cfg);
void dm_config_unref(const struct dm_config *cfg);
void dm_config_free(struct dm_config *cfg);

/* Registers the configuration's secrets with the logger so they are
 * redacted wherever they might surface (conninfo password, SMTP password,
 * webhook secret). */
void dm_config_register_secrets(const struct dm_config *cfg);

/* Decodes a Standard Webhooks secret "whsec_<base64>" into a newly
 * allocated key of *len bytes. False (nothing allocated) when text is not
 * exactly that or the key is shorter than 16 bytes. */
bool dm_config_decode_whsec(const char *text, unsigned char **key, size_t *len) DM_MUST_CHECK;

/* The logger settings the configuration asks for. */
struct dm_log_settings dm_config_log_settings(const struct dm_config *cfg, const char *ident);

#endif
