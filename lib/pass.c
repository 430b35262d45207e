/* The lifecycle pass: guards, resume, request, remind, suspend, erase. */
/* PLACEHOLDER until the engine lands: schedules nothing. */
#include "pass.h"

#include <stdlib.h>

#include "daemon.h"

struct dm_pass {
    struct dm_daemon *d;
};

struct dm_pass *dm_pass_new(struct dm_daemon *d)
{
    struct dm_pass *p = calloc(1, sizeof *p);
    p->d = d;
    return p;
}

void dm_pass_reconfigure(struct dm_pass *p)
{
}

void dm_pass_stop(struct dm_pass *p)
{
}

bool dm_pass_busy(const struct dm_pass *p)
{
    return false;
}

void dm_pass_free(struct dm_pass *p)
{
    free(p);
}
