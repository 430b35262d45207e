/* Dates as a reader reads them: in a time zone, in a language (ICU). */
#include "localdate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unicode/ucal.h>
#include <unicode/udat.h>
#include <unicode/ustring.h>

/* Parses "YYYY-MM-DDTHH:MM:SS" followed by "Z" (fractions allowed) or
 * "+00:00" into milliseconds since the epoch. */
static bool parse_iso(const char *iso, UDate *ms)
{
    struct tm tm = {0};
    int n = 0;

    if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                              &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return false;
    const char *rest = iso + n;
    if (*rest == '.')
        rest += 1 + strspn(rest + 1, "0123456789");
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0 && strcmp(rest, "+00") != 0)
        return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ms = (UDate)timegm(&tm) * 1000.0;
    return true;
}

/* "pt-BR" -> "pt_BR"; a tag ICU would misread (too long, odd characters)
 * becomes English. A bare "en" is CLDR's international English ("en_001":
 * "21 July 2024"), not the United States' ("July 21, 2024", "en_US"). */
static void icu_locale(const char *locale, char *out, size_t len)
{
    size_t n = locale ? strlen(locale) : 0;
    if (n < 2 || n >= len ||
        strspn(locale, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n ||
        strcasecmp(locale, "en") == 0) {
        snprintf(out, len, "en_001");
        return;
    }
    for (size_t i = 0; i <= n; i++)
        out[i] = locale[i] == '-' ? '_' : locale[i];
}

bool dm_localdate_zone_ok(const char *tz)
{
    UChar id[128], canon[128];
    UBool system = 0;
    UErrorCode st = U_ZERO_ERROR;

    if (tz == NULL || tz[0] == '\0' || strlen(tz) >= sizeof id / sizeof id[0])
        return false;
    u_uastrcpy(id, tz);
    ucal_getCanonicalTimeZoneID(id, -1, canon, (int32_t)(sizeof canon / sizeof canon[0]), &system,
                                &st);
    return U_SUCCESS(st) && system;
}

/* Formats the moment when (milliseconds since the epoch) as
 * dm_localdate_format says. */
static bool format_ms(UDate when, const char *locale, const char *tz, enum dm_date_style style,
                      char *out, size_t len)
{
    UChar zone[128], buf[256];
    char loc[32];
    UErrorCode st = U_ZERO_ERROR;
    UDateFormat *f = NULL;
    bool ok = false;
    bool timed = style == DM_TIME_SHORT || style == DM_TIME_MEDIUM;

    if (len > 0)
        out[0] = '\0';
    if (tz == NULL || tz[0] == '\0' || strlen(tz) >= sizeof zone / sizeof zone[0])
        tz = "UTC";
    u_uastrcpy(zone, tz);
    icu_locale(locale, loc, sizeof loc);
    f = udat_open(style == DM_TIME_SHORT    ? UDAT_SHORT
                  : style == DM_TIME_MEDIUM ? UDAT_MEDIUM
                                            : UDAT_NONE,
                  timed                   ? UDAT_NONE
                  : style == DM_DATE_FULL ? UDAT_FULL
                                          : UDAT_LONG,
                  loc, zone, -1, NULL, -1, &st);
    if (U_FAILURE(st))
        goto out;
    int32_t n = udat_format(f, when, buf, (int32_t)(sizeof buf / sizeof buf[0]), NULL, &st);
    if (U_FAILURE(st) || n <= 0)
        goto out;
    u_strToUTF8(out, (int32_t)len, NULL, buf, n, &st);
    ok = U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING;
out:
    if (f != NULL)
        udat_close(f);
    if (!ok && len > 0)
        out[0] = '\0';
    return ok;
}

bool dm_localdate_format(const char *iso, const char *locale, const char *tz,
                         enum dm_date_style style, char *out, size_t len)
{
    UDate when;

    if (!parse_iso(iso, &when)) {
        if (len > 0)
            out[0] = '\0';
        return false;
    }
    return format_ms(when, locale, tz, style, out, len);
}

/* True when when is a midnight in time zone tz. */
static bool at_midnight(UDate when, const char *tz)
{
    UChar zone[128];
    UErrorCode st = U_ZERO_ERROR;

    if (tz == NULL || tz[0] == '\0' || strlen(tz) >= sizeof zone / sizeof zone[0])
        tz = "UTC";
    u_uastrcpy(zone, tz);
    UCalendar *cal = ucal_open(zone, -1, "en_001", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st))
        return false;
    ucal_setMillis(cal, when, &st);
    bool midnight = U_SUCCESS(st) && ucal_get(cal, UCAL_HOUR_OF_DAY, &st) == 0 &&
                    ucal_get(cal, UCAL_MINUTE, &st) == 0 && ucal_get(cal, UCAL_SECOND, &st) == 0 &&
                    ucal_get(cal, UCAL_MILLISECOND, &st) == 0 && U_SUCCESS(st);
    ucal_close(cal);
    return midnight;
}

bool dm_localdate_deadline(const char *iso, const char *locale, const char *tz, char *date,
                           size_t date_len, char *time, size_t time_len)
{
    UDate when;
    bool ok;

    if (!parse_iso(iso, &when)) {
        if (date_len > 0)
            date[0] = '\0';
        if (time_len > 0)
            time[0] = '\0';
        return false;
    }
    if (at_midnight(when, tz))
        ok = format_ms(when - 60000.0, locale, tz, DM_DATE_FULL, date, date_len) &&
             format_ms(when - 60000.0, locale, tz, DM_TIME_SHORT, time, time_len);
    else
        ok = format_ms(when - 1000.0, locale, tz, DM_DATE_FULL, date, date_len) &&
             format_ms(when - 1000.0, locale, tz, DM_TIME_MEDIUM, time, time_len);
    if (!ok && time_len > 0)
        time[0] = '\0';
    return ok;
}
