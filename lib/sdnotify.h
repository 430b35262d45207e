/* systemd's sd_notify: readiness, reloads, stops, status, watchdog; a no-op without libsystemd. */
#ifndef DM_SDNOTIFY_H
#define DM_SDNOTIFY_H

#include <stdint.h>

/* Sends a notification line such as "READY=1" or "STATUS=...". A no-op when
 * not started by systemd (no NOTIFY_SOCKET) or built without libsystemd. */
void dm_sdnotify(const char *state);

/* "RELOADING=1" with the MONOTONIC_USEC systemd needs for Type=notify-reload. */
void dm_sdnotify_reloading(void);

/* The watchdog interval systemd asks for, in microseconds; 0 when none. */
uint64_t dm_sdnotify_watchdog_usec(void);

#endif
