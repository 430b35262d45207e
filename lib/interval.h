/* Durations written as PostgreSQL interval words. */
#ifndef DM_INTERVAL_H
#define DM_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dormant.h"

/*
 * A span of time kept the way PostgreSQL keeps an interval: months, days and
 * microseconds are separate, because "1 month" is not a fixed number of
 * seconds. Passed to SQL through dm_interval_sql(), so the database's own
 * calendar arithmetic applies; converted to seconds only for local timers.
 */
struct dm_interval {
    bool set;       /* false for a disabled optional duration ("") */
    int32_t months; /* years and months */
    int32_t days;   /* weeks and days */
    int64_t usec;   /* hours, minutes, seconds and below */
};

/* Parses "90 seconds", "1 year 6 months", "2 weeks 3 days". Strict: every
 * number needs a unit, units are PostgreSQL's words (singular, plural and
 * the usual abbreviations), nothing else may appear. An empty string gives
 * an unset interval. On failure writes a one-line reason to err. */
bool dm_interval_parse(const char *text, struct dm_interval *out, char *err,
                       size_t errlen) DM_MUST_CHECK;

/* Writes the interval as an unambiguous literal PostgreSQL accepts as
 * `$1::interval`, e.g. "18 months 0 days 0 microseconds". */
void dm_interval_sql(const struct dm_interval *iv, char *buf, size_t len);

/* Writes the interval for a person to read, largest units first and
 * zero parts left out: "5 minutes", "1 year 6 months", "1 day 12 hours",
 * "250 milliseconds", "0 seconds"; "off" when unset. PostgreSQL reads it
 * too, but dm_interval_sql() is what SQL gets. */
void dm_interval_human(const struct dm_interval *iv, char *buf, size_t len);

/* Approximate length in microseconds (a month counts 30 days, a day 24 h),
 * for timers that run on the daemon's side only. */
int64_t dm_interval_usec(const struct dm_interval *iv);

/* Same, in milliseconds, saturating at INT64_MAX / 1000. */
int64_t dm_interval_ms(const struct dm_interval *iv);

/* True when the interval is set and longer than zero. */
bool dm_interval_positive(const struct dm_interval *iv);

#endif
