/* Project-wide constants: exit codes and build identity. */
#ifndef DM_DORMANT_H
#define DM_DORMANT_H

#include "version.h"

/* Exit codes shared by dormantd and dormantctl (sysexits.h values). */
enum dm_exit {
    DM_EXIT_OK = 0,           /* success */
    DM_EXIT_FAILURE = 1,      /* anything else */
    DM_EXIT_USAGE = 64,       /* bad flags or arguments */
    DM_EXIT_DATAERR = 65,     /* unknown subscriber id, bad timestamp */
    DM_EXIT_UNAVAILABLE = 69, /* database unreachable */
    DM_EXIT_TEMPFAIL = 75,    /* --once while another instance holds the scanning lead */
    DM_EXIT_CONFIG = 78,      /* configuration error */
};

#define DM_MUST_CHECK   __attribute__((warn_unused_result))
#define DM_PRINTF(f, a) __attribute__((format(printf, f, a)))

#endif
