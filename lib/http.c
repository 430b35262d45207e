/* The HTTP server: confirmation page, /healthz and /metrics. */
/* PLACEHOLDER until the page lands. */
#include "http.h"

#include <stdlib.h>

#include "daemon.h"

struct dm_http {
    struct dm_daemon *d;
};

struct dm_http *dm_http_new(struct dm_daemon *d, char *err, size_t errlen)
{
    struct dm_http *h = calloc(1, sizeof *h);
    h->d = d;
    return h;
}

void dm_http_reconfigure(struct dm_http *h)
{
}

void dm_http_stop(struct dm_http *h)
{
}

void dm_http_free(struct dm_http *h)
{
    free(h);
}
