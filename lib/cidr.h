/* Address ranges: the peers named by http.trusted_proxies. */
#ifndef DM_CIDR_H
#define DM_CIDR_H

#include <stdbool.h>

/* One address or network: "127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8". */
struct dm_cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, 4 or 16 bytes in network order */
    int bits;               /* prefix length: 32 or 128 for a single address */
};

/* Parses text into out; false when it is not an address, optionally with
 * "/bits" within the family's length. IPv4-mapped IPv6 addresses
 * ("::ffff:192.0.2.1") are read as the IPv4 address they carry. */
bool dm_cidr_parse(const char *text, struct dm_cidr *out);

/* True when the textual address addr lies in c (an IPv4 client seen on an
 * IPv6 socket as ::ffff:a.b.c.d matches IPv4 ranges). False when addr is
 * not an address. */
bool dm_cidr_contains(const struct dm_cidr *c, const char *addr);

/* True when addr is an address dm_cidr_contains() can read. */
bool dm_cidr_is_address(const char *addr);

#endif
