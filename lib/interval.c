/* Durations written as PostgreSQL interval words. */
#include "interval.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one unit word adds to an interval, per unit of the number before it. */
struct unit {
    const char *name;
    int32_t months;
    int32_t days;
    int64_t usec;
};

#define USEC_PER_SEC INT64_C(1000000)

static const struct unit units[] = {
    {"microsecond", 0, 0, 1},
    {"microseconds", 0, 0, 1},
    {"us", 0, 0, 1},
    {"millisecond", 0, 0, 1000},
    {"milliseconds", 0, 0, 1000},
    {"ms", 0, 0, 1000},
    {"second", 0, 0, USEC_PER_SEC},
    {"seconds", 0, 0, USEC_PER_SEC},
    {"sec", 0, 0, USEC_PER_SEC},
    {"secs", 0, 0, USEC_PER_SEC},
    {"s", 0, 0, USEC_PER_SEC},
    {"minute", 0, 0, 60 * USEC_PER_SEC},
    {"minutes", 0, 0, 60 * USEC_PER_SEC},
    {"min", 0, 0, 60 * USEC_PER_SEC},
    {"mins", 0, 0, 60 * USEC_PER_SEC},
    {"hour", 0, 0, 3600 * USEC_PER_SEC},
    {"hours", 0, 0, 3600 * USEC_PER_SEC},
    {"h", 0, 0, 3600 * USEC_PER_SEC},
    {"day", 0, 1, 0},
    {"days", 0, 1, 0},
    {"d", 0, 1, 0},
    {"week", 0, 7, 0},
    {"weeks", 0, 7, 0},
    {"w", 0, 7, 0},
    {"month", 1, 0, 0},
    {"months", 1, 0, 0},
    {"mon", 1, 0, 0},
    {"mons", 1, 0, 0},
    {"year", 12, 0, 0},
    {"years", 12, 0, 0},
    {"y", 12, 0, 0},
    {"yr", 12, 0, 0},
    {"yrs", 12, 0, 0},
};

/* Largest count accepted for one term: keeps every sum far from overflow
 * while allowing any interval an operator could mean (a century in seconds). */
#define MAX_COUNT INT64_C(10000000000)

static const struct unit *unit_find(const char *word, size_t len)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == len && strncasecmp(units[i].name, word, len) == 0)
            return &units[i];
    }
    return NULL;
}

bool dm_interval_parse(const char *text, struct dm_interval *out, char *err, size_t errlen)
{
    struct dm_interval iv = {.set = false};
    const char *p = text;
    int terms = 0;

    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0') {
        *out = iv;
        return true;
    }
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "bad duration \"%s\": expected a number at \"%s\"", text, p);
            return false;
        }
        errno = 0;
        char *end;
        unsigned long long n = strtoull(p, &end, 10);
        if (errno != 0 || n > (unsigned long long)MAX_COUNT) {
            snprintf(err, errlen, "bad duration \"%s\": number out of range", text);
            return false;
        }
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        const char *word = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t wlen = (size_t)(p - word);
        if (wlen == 0) {
            snprintf(err, errlen, "bad duration \"%s\": a number needs a unit (seconds, days, ...)",
                     text);
            return false;
        }
        const struct unit *u = unit_find(word, wlen);
        if (u == NULL) {
            snprintf(err, errlen, "bad duration \"%s\": unknown unit \"%.*s\"", text, (int)wlen,
                     word);
            return false;
        }
        int64_t months = iv.months + (int64_t)n * u->months;
        int64_t days = iv.days + (int64_t)n * u->days;
        if (months > INT32_MAX || days > INT32_MAX ||
            (u->usec != 0 && (int64_t)n > (INT64_MAX - iv.usec) / u->usec)) {
            snprintf(err, errlen, "bad duration \"%s\": out of range", text);
            return false;
        }
        iv.months = (int32_t)months;
        iv.days = (int32_t)days;
        iv.usec += (int64_t)n * u->usec;
        terms++;
        if (*p != '\0' && !isspace((unsigned char)*p)) {
            snprintf(err, errlen, "bad duration \"%s\": unexpected \"%s\"", text, p);
            return false;
        }
        while (isspace((unsigned char)*p))
            p++;
    }
    iv.set = terms > 0;
    *out = iv;
    return true;
}

void dm_interval_sql(const struct dm_interval *iv, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRId32 " months %" PRId32 " days %" PRId64 " microseconds", iv->months,
             iv->days, iv->usec);
}

void dm_interval_human(const struct dm_interval *iv, char *buf, size_t len)
{
    if (!iv->set) {
        snprintf(buf, len, "off");
        return;
    }
    const int64_t us = iv->usec < 0 ? -iv->usec : iv->usec;
    const struct {
        int64_t n;
        const char *unit;
    } parts[] = {
        {iv->months / 12, "year"},
        {iv->months % 12, "month"},
        {iv->days, "day"},
        {us / (3600 * USEC_PER_SEC), "hour"},
        {us / (60 * USEC_PER_SEC) % 60, "minute"},
        {us / USEC_PER_SEC % 60, "second"},
        {us / 1000 % 1000, "millisecond"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && used < len; i++) {
        if (parts[i].n == 0)
            continue;
        int w = snprintf(buf + used, len - used, "%s%" PRId64 " %s%s", used ? " " : "", parts[i].n,
                         parts[i].unit, parts[i].n == 1 || parts[i].n == -1 ? "" : "s");
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "0 seconds");
}

int64_t dm_interval_usec(const struct dm_interval *iv)
{
    if (!iv->set)
        return 0;
    const int64_t day = 86400 * USEC_PER_SEC;
    int64_t whole_days = (int64_t)iv->months * 30 + iv->days;
    if (whole_days > (INT64_MAX - iv->usec) / day)
        return INT64_MAX;
    return whole_days * day + iv->usec;
}

int64_t dm_interval_ms(const struct dm_interval *iv)
{
    return dm_interval_usec(iv) / 1000;
}

bool dm_interval_positive(const struct dm_interval *iv)
{
    return iv->set && dm_interval_usec(iv) > 0;
}
