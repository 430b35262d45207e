/* What a delivery round comes to (see outbox_outcome.h). */
#include "outbox_outcome.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "interval.h"

/* Keeps the longest delay seen: d (SQL) and human, worth ms. */
static void longest(struct dm_outcome *out, int64_t ms, const char *d, const char *human)
{
    if (out->delayed && ms <= out->delay_ms)
        return;
    out->delayed = true;
    out->delay_ms = ms;
    snprintf(out->delay, sizeof out->delay, "%s", d);
    snprintf(out->delay_human, sizeof out->delay_human, "%s", human);
}

static void dead(struct dm_outcome *out, int ch)
{
    out->dead = true;
    snprintf(out->dead_channel, sizeof out->dead_channel, "%s", dm_channel_names[ch]);
}

void dm_outcome_decide(const struct dm_round *r, struct dm_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->delivered = true;
    for (int ch = 0; ch < DM_CH_COUNT; ch++) {
        out->done[ch] = r->done[ch] || r->result[ch] == DM_CH_OK;
        out->any_ok |= r->result[ch] == DM_CH_OK;
        if (r->configured[ch] && !out->done[ch])
            out->delivered = false;
    }
    for (int ch = 0; ch < DM_CH_COUNT; ch++) {
        enum dm_ch_result res = r->result[ch];
        if (res == DM_CH_NONE || res == DM_CH_OK)
            continue;
        size_t n = strlen(out->last_error);
        snprintf(out->last_error + n, sizeof out->last_error - n, "%s%s: %s", n ? "; " : "",
                 dm_channel_names[ch], r->cause[ch] ? r->cause[ch] : "failed");
        if (res == DM_CH_GONE)
            continue;
        const struct dm_interval_list *list = r->retry[ch];
        char d[128], human[128];
        if (res == DM_CH_OPERATOR) {
            size_t i = (size_t)r->attempts < list->n ? (size_t)r->attempts : list->n - 1;
            dm_interval_sql(&list->items[i], d, sizeof d);
            dm_interval_human(&list->items[i], human, sizeof human);
            longest(out, dm_interval_ms(&list->items[i]), d, human);
            continue;
        }
        out->counted = true;
        if (res == DM_CH_DEAD || (size_t)r->attempts >= list->n) {
            dead(out, ch);
            continue;
        }
        if (r->retry_after_s[ch] >= 0) {
            int64_t s = r->retry_after_s[ch] > DM_RETRY_AFTER_MAX_S ? DM_RETRY_AFTER_MAX_S
                                                                    : r->retry_after_s[ch];
            snprintf(d, sizeof d, "%" PRId64 " second%s", s, s == 1 ? "" : "s");
            longest(out, s * 1000, d, d);
        } else {
            const struct dm_interval *iv = &list->items[r->attempts];
            dm_interval_sql(iv, d, sizeof d);
            dm_interval_human(iv, human, sizeof human);
            longest(out, dm_interval_ms(iv), d, human);
        }
    }
    if (out->delivered) {
        out->dead = false;
        out->dead_channel[0] = '\0';
    }
    if (out->delivered || out->dead)
        out->delayed = false;
}
