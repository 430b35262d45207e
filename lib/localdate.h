/* Dates as a reader reads them: in a time zone, in a language (ICU). */
#ifndef DM_LOCALDATE_H
#define DM_LOCALDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

/* How much of a moment to show, in the locale's own words and order. */
enum dm_date_style {
    DM_DATE_LONG,  /* "July 21, 2024", "21. Juli 2024", "21 de julio de 2024" */
    DM_DATE_FULL,  /* with the day's name: "Tuesday, December 29, 2026" */
    DM_TIME_SHORT, /* the time of day: "12:30 AM", "00:30", "0:30" */
    DM_TIME_MEDIUM /* with the seconds: "12:30:07 AM", "00:30:07" */
};

/*
 * Writes the moment iso (an ISO 8601 UTC timestamp as found in payloads,
 * "2026-12-28T23:30:00Z") as seen in time zone tz (an IANA name such as
 * "Europe/Paris"; NULL or "" is UTC) and written in locale ("fr", "pt_BR",
 * "de-AT"; NULL or "" is English), in UTF-8. Month and day names, their
 * order and punctuation come from ICU's locale data (CLDR), so any
 * language ICU knows works without tables of our own. Writes "" and
 * returns false when iso is not such a timestamp or ICU fails.
 */
bool dm_localdate_format(const char *iso, const char *locale, const char *tz,
                         enum dm_date_style style, char *out, size_t len);

/*
 * Writes a deadline (ISO 8601 UTC, as in payloads) the way a message states
 * it, as the last moment still inside it, so that the deadline enforced is
 * the end of what the reader sees (DESIGN.md promise 3). A deadline at a
 * midnight of tz (a confirmation period of a day or more is always moved to
 * one) is the end of the day before: its date, and the time of its last
 * minute ("23:59"). Any other (a period shorter than a day, in tests and
 * demos) is stated to the second: the date and time of its last second.
 * Both outputs are "" and false is returned as dm_localdate_format does.
 */
bool dm_localdate_deadline(const char *iso, const char *locale, const char *tz, char *date,
                           size_t date_len, char *time, size_t time_len);

/* True when tz names a time zone ICU knows ("UTC", "Europe/Paris"). */
bool dm_localdate_zone_ok(const char *tz);

#endif
