/* systemd's sd_notify: readiness, reloads, stops, status, watchdog; a no-op without libsystemd. */
#include "sdnotify.h"

#include <stdio.h>
#include <time.h>

#ifdef DM_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void dm_sdnotify(const char *state)
{
#ifdef DM_HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

void dm_sdnotify_reloading(void)
{
    struct timespec ts;
    char line[96];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(line, sizeof line, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    dm_sdnotify(line);
}

uint64_t dm_sdnotify_watchdog_usec(void)
{
#ifdef DM_HAVE_SYSTEMD
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        return usec;
#endif
    return 0;
}
