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

bool dm_localdate_format(const char *iso, const char *locale, const char *tz,
                         enum dm_date_style style, char *out, size_t len)
{
    UChar zone[128], buf[256];
    char loc[32];
    UDate when;
    UErrorCode st = U_ZERO_ERROR;
    UDateFormat *f = NULL;
    bool ok = false;

    if (len > 0)
        out[0] = '\0';
    if (!parse_iso(iso, &when))
        return false;
    if (tz == NULL || tz[0] == '\0' || strlen(tz) >= sizeof zone / sizeof zone[0])
        tz = "UTC";
    u_uastrcpy(zone, tz);
    icu_locale(locale, loc, sizeof loc);
    f = udat_open(style == DM_TIME_SHORT ? UDAT_SHORT : UDAT_NONE,
                  style == DM_TIME_SHORT  ? UDAT_NONE
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
