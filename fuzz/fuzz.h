/*
 * Shared helpers of the libFuzzer harnesses in fuzz/fuzz_*.c.
 *
 * Each harness drives one parser of lib/ with arbitrary bytes, under
 * AddressSanitizer and UndefinedBehaviorSanitizer, and checks what the
 * parser promises in its header beyond "does not crash" where that is
 * cheap (round trips, output alphabets, lengths). A broken promise aborts,
 * which libFuzzer reports as a crash like any other.
 */
#ifndef DM_FUZZ_H
#define DM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Aborts with a message when a promise is broken. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of data (NUL bytes inside stay, so C string
 * functions see only the part before the first one). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits data at the first NUL into a first string and the rest (also
 * NUL-terminated, "" when there is no NUL). Both point into one block that
 * the caller frees through *first. */
static inline void fuzz_split(const uint8_t *data, size_t size, char **first, char **rest)
{
    char *s = fuzz_strndup(data, size);
    size_t n = strlen(s);
    *first = s;
    *rest = n < size ? s + n + 1 : s + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
