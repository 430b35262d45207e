/* Per-address limiter for failed token attempts: a small bounded table of token buckets. */
#ifndef DM_RATELIMIT_H
#define DM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dm_ratelimit;

/*
 * A table of at most slots addresses (rounded up to a power of two), each
 * with a bucket of burst credits that refills at one credit per refill_ms.
 * Each failure spends one credit; an address with less than one credit left
 * is blocked until it refills. Addresses that have refilled completely are
 * forgotten; when the table is full the stalest entry near the address's
 * slot is reused, so memory stays bounded whatever the traffic.
 * Times are monotonic milliseconds supplied by the caller.
 */
struct dm_ratelimit *dm_ratelimit_new(size_t slots, int burst, int64_t refill_ms);

/* True when key has run out of credit at now_ms. */
bool dm_ratelimit_blocked(struct dm_ratelimit *rl, const char *key, int64_t now_ms);

/* Milliseconds from now_ms until key may try again (0 when it may now):
 * what a Retry-After should say. */
int64_t dm_ratelimit_retry_ms(struct dm_ratelimit *rl, const char *key, int64_t now_ms);

/* Records one failure for key at now_ms. */
void dm_ratelimit_charge(struct dm_ratelimit *rl, const char *key, int64_t now_ms);

void dm_ratelimit_free(struct dm_ratelimit *rl);

#endif
