/*
 * Fuzzes the whsec_ decoder, dm_config_decode_whsec(). An accepted secret
 * is "whsec_" and canonical base64 of at least 16 bytes: encoding the key
 * again gives back exactly the text after the prefix.
 */
#include <openssl/evp.h>
#include <stdbool.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    unsigned char *key = NULL;
    size_t len = 0;
    if (dm_config_decode_whsec(text, &key, &len)) {
        FUZZ_ASSERT(strncmp(text, "whsec_", 6) == 0 && len >= 16);
        size_t blen = strlen(text + 6);
        unsigned char *again = malloc(4 * ((len + 2) / 3) + 1);
        if (again == NULL)
            abort();
        int n = EVP_EncodeBlock(again, key, (int)len);
        FUZZ_ASSERT((size_t)n == blen && memcmp(again, text + 6, blen) == 0);
        free(again);
        free(key);
    }
    free(text);
    return 0;
}
