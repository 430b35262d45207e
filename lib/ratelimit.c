/* Per-address limiter for failed token attempts: a small bounded table of token buckets. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

/* Slots probed around an address's home slot before one is reused. */
#define PROBE 8
/* Longest key kept (an IPv6 address in text is at most 45 characters). */
#define KEY_SIZE 48

/* One address and its bucket. */
struct entry {
    char key[KEY_SIZE]; /* "" = free slot */
    int64_t spent_ms;   /* debt in milliseconds of refill: credits spent * refill_ms, decaying */
    int64_t at_ms;      /* when spent_ms was last brought up to date */
};

struct dm_ratelimit {
    struct entry *slots;
    size_t mask;       /* number of slots - 1 */
    int64_t burst_ms;  /* burst * refill_ms: the most debt allowed before blocking */
    int64_t refill_ms; /* one credit comes back per refill_ms */
};

/* FNV-1a: spreads addresses over the table. */
static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct dm_ratelimit *dm_ratelimit_new(size_t slots, int burst, int64_t refill_ms)
{
    size_t n = 16;
    while (n < slots)
        n *= 2;
    struct dm_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL)
        abort();
    rl->slots = calloc(n, sizeof *rl->slots);
    if (rl->slots == NULL)
        abort();
    rl->mask = n - 1;
    rl->refill_ms = refill_ms > 0 ? refill_ms : 1;
    rl->burst_ms = (int64_t)(burst > 0 ? burst : 1) * rl->refill_ms;
    return rl;
}

/* Brings an entry's debt up to now; an entry with no debt left is freed. */
static void decay(struct entry *e, int64_t now_ms)
{
    if (e->key[0] == '\0')
        return;
    int64_t elapsed = now_ms - e->at_ms;
    if (elapsed > 0) {
        e->spent_ms = e->spent_ms > elapsed ? e->spent_ms - elapsed : 0;
        e->at_ms = now_ms;
    }
    if (e->spent_ms == 0)
        e->key[0] = '\0';
}

/* The entry for key, or NULL; with create, a free or reused slot for it. */
static struct entry *find(struct dm_ratelimit *rl, const char *key, int64_t now_ms, bool create)
{
    size_t home = (size_t)hash(key) & rl->mask;
    struct entry *free_slot = NULL, *stalest = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct entry *e = &rl->slots[(home + i) & rl->mask];
        decay(e, now_ms);
        if (e->key[0] != '\0' && strncmp(e->key, key, KEY_SIZE - 1) == 0)
            return e;
        if (e->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = e;
        } else if (stalest == NULL || e->spent_ms < stalest->spent_ms) {
            stalest = e;
        }
    }
    if (!create)
        return NULL;
    struct entry *e = free_slot ? free_slot : stalest;
    memset(e, 0, sizeof *e);
    strncpy(e->key, key, KEY_SIZE - 1);
    e->at_ms = now_ms;
    return e;
}

bool dm_ratelimit_blocked(struct dm_ratelimit *rl, const char *key, int64_t now_ms)
{
    struct entry *e = find(rl, key, now_ms, false);
    /* Blocked when less than one whole credit is left. */
    return e != NULL && rl->burst_ms - e->spent_ms < rl->refill_ms;
}

int64_t dm_ratelimit_retry_ms(struct dm_ratelimit *rl, const char *key, int64_t now_ms)
{
    struct entry *e = find(rl, key, now_ms, false);
    int64_t wait = e ? e->spent_ms - (rl->burst_ms - rl->refill_ms) : 0;
    return wait > 0 ? wait : 0;
}

void dm_ratelimit_charge(struct dm_ratelimit *rl, const char *key, int64_t now_ms)
{
    struct entry *e = find(rl, key, now_ms, true);
    e->spent_ms += rl->refill_ms;
    if (e->spent_ms > rl->burst_ms)
        e->spent_ms = rl->burst_ms;
}

void dm_ratelimit_free(struct dm_ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->slots);
    free(rl);
}
