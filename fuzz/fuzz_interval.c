/* Fuzzes dm_interval_parse() and the conversions of what it accepts. */
#include <inttypes.h>

#include "fuzz.h"
#include "interval.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct dm_interval iv;
    char err[256];

    if (dm_interval_parse(text, &iv, err, sizeof err)) {
        char sql[128];
        dm_interval_sql(&iv, sql, sizeof sql);
        /* Every accepted interval counts forwards. */
        FUZZ_ASSERT(iv.months >= 0 && iv.days >= 0 && iv.usec >= 0);
        int64_t us = dm_interval_usec(&iv), ms = dm_interval_ms(&iv);
        FUZZ_ASSERT(us >= 0 && ms >= 0 && ms == us / 1000);
        FUZZ_ASSERT(dm_interval_positive(&iv) == (iv.set && us > 0));
        /* What dm_interval_sql() writes says exactly the three fields. */
        int32_t months, days;
        int64_t usec;
        char tail;
        FUZZ_ASSERT(sscanf(sql, "%" SCNd32 " months %" SCNd32 " days %" SCNd64 " microseconds%c",
                           &months, &days, &usec, &tail) == 3);
        FUZZ_ASSERT(months == iv.months && days == iv.days && usec == iv.usec);
    } else {
        FUZZ_ASSERT(err[0] != '\0');
    }
    free(text);
    return 0;
}
