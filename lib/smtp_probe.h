/* Asks the configured SMTP server, before the first message, whether it
 * offers what email.starttls requires. */
#ifndef DM_SMTP_PROBE_H
#define DM_SMTP_PROBE_H

#include <stddef.h>

struct dm_config;

enum dm_smtp_probe {
    DM_PROBE_OK,          /* nothing to check, or the server offers STARTTLS */
    DM_PROBE_NO_STARTTLS, /* reachable, and its EHLO answer lacks STARTTLS */
    DM_PROBE_UNREACHABLE, /* could not ask (connection, timeout, odd answer) */
};

/*
 * With email.smtp_url smtp://host[:port] and email.starttls = "required",
 * connects (at most timeout_ms for each step), reads the greeting, sends
 * EHLO and QUIT, and tells whether STARTTLS is offered. Blocking: for
 * --check-config and start-up only. Writes a one-line reason naming
 * email.starttls (or why the server could not be asked) to err.
 */
enum dm_smtp_probe dm_smtp_probe(const struct dm_config *cfg, int timeout_ms, char *err,
                                 size_t errlen);

#endif
