/* libcurl's multi-socket interface driven by the libevent loop. */
#ifndef DM_TRANSFER_H
#define DM_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>

#include "dormant.h"

struct event_base;
struct dm_transfers;

/* Called once per finished transfer, from the event loop, with curl's
 * result. The easy handle has been removed from the multi handle and now
 * belongs to the callback again (it calls curl_easy_cleanup()). */
typedef void (*dm_transfer_done_fn)(void *arg, CURL *easy, CURLcode rc);

/*
 * One curl multi handle whose sockets and timeout are libevent events
 * (curl's hiperfifo.c pattern): curl tells us which sockets to watch through
 * its socket callback (one persistent event per socket) and when to call it
 * back through its timer callback (one timer); after every action finished
 * transfers are drained with curl_multi_info_read(). Connections stay in the
 * multi handle's cache between transfers, so one endpoint's connections are
 * reused. max_connections caps the cache (0 = curl's default).
 */
struct dm_transfers *dm_transfers_new(struct event_base *base, long max_connections);

/* Starts easy; fn is called when it finishes. False (nothing called) when
 * curl refuses the handle. */
bool dm_transfers_add(struct dm_transfers *t, CURL *easy, dm_transfer_done_fn fn,
                      void *arg) DM_MUST_CHECK;

/* Transfers started and not yet called back. */
int dm_transfers_running(const struct dm_transfers *t);

/* Aborts every transfer without calling back (their easy handles are
 * removed from the multi handle and stay their owners' to clean up) and
 * closes every connection. Call it before freeing those owners. */
void dm_transfers_free(struct dm_transfers *t);

#endif
