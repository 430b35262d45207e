/* Host names of a libpq connection string, resolved without blocking. */
#ifndef DM_RESOLVE_H
#define DM_RESOLVE_H

#include <stdbool.h>

struct event_base;
struct evdns_base;
struct dm_resolve;

/*
 * What libpq gets beside the connection string once its host names are
 * resolved: "host", "hostaddr" and "port" lists of equal length, one entry
 * per address found (a name with three addresses becomes three entries of
 * the same host, so libpq still tries them in turn, and still checks the
 * server's certificate and finds passfile entries by the name). Entries
 * that needed no lookup (a socket directory, a numeric address) are kept as
 * they were, with an empty hostaddr.
 */
struct dm_resolved {
    const char *host;
    const char *hostaddr;
    const char *port; /* NULL: leave the connection string's port alone */
};

/* Called once per dm_resolve_start() that returned non-NULL, from the event
 * loop, unless cancelled: with the lists, or with r NULL and a one-line
 * reason ("could not resolve host name db.example.com") in err. The lists
 * live until the callback returns. */
typedef void (*dm_resolve_fn)(void *arg, const struct dm_resolved *r, const char *err);

/*
 * Looks up the host names of conninfo (a libpq key=value string or URI;
 * PGHOST, PGHOSTADDR and PGPORT stand in for absent keys, as libpq does)
 * through dns, libevent's asynchronous resolver, which reads
 * /etc/resolv.conf and /etc/hosts. Returns NULL, calling nothing, when
 * there is nothing to look up: no host, only socket directories or
 * numeric addresses, a hostaddr already given, or a string libpq itself
 * will reject (it says why when it tries). Names given in a service file
 * are not seen here and are resolved by libpq, blocking.
 */
struct dm_resolve *dm_resolve_start(struct event_base *base, struct evdns_base *dns,
                                    const char *conninfo, dm_resolve_fn fn, void *arg);

/* Abandons a lookup: fn is not called, the memory goes when the resolver
 * lets go of it. */
void dm_resolve_cancel(struct dm_resolve *r);

#endif
