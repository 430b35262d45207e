/* systemd service notifications (sd_notify), compiled out without libsystemd. */
#ifndef DM_NOTIFY_H
#define DM_NOTIFY_H

#include <stdint.h>

/* Sends a notification line such as "READY=1" or "STATUS=...". A no-op when
 * not started by systemd (no NOTIFY_SOCKET) or built without libsystemd. */
void dm_notify(const char *state);

/* "RELOADING=1" with the MONOTONIC_USEC systemd needs for Type=notify-reload. */
void dm_notify_reloading(void);

/* The watchdog interval systemd asks for, in microseconds; 0 when none. */
uint64_t dm_notify_watchdog_usec(void);

#endif
