/* The outbox dispatcher: claims due messages and delivers them. */
/* PLACEHOLDER until delivery lands. */
#include "outbox.h"

#include <stdlib.h>

#include "daemon.h"

struct dm_outbox {
    struct dm_daemon *d;
};

struct dm_outbox *dm_outbox_new(struct dm_daemon *d)
{
    struct dm_outbox *o = calloc(1, sizeof *o);
    o->d = d;
    return o;
}

void dm_outbox_reconfigure(struct dm_outbox *o)
{
}

void dm_outbox_kick(struct dm_outbox *o)
{
    dm_daemon_outbox_drained(o->d);
}

void dm_outbox_stop(struct dm_outbox *o)
{
}

int dm_outbox_inflight(const struct dm_outbox *o)
{
    return 0;
}

void dm_outbox_free(struct dm_outbox *o)
{
    free(o);
}
