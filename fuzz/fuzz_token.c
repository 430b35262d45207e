/* Fuzzes the token path parser: dm_token_well_formed() on what follows
 * "/c/" in a request path, and the hash computed from what it accepts. */
#include "fuzz.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    bool ok = dm_token_well_formed(text);
    if (ok) {
        /* Only the 43 characters of base64url pass. */
        FUZZ_ASSERT(strlen(text) == DM_TOKEN_LEN);
        FUZZ_ASSERT(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_") == DM_TOKEN_LEN);
        char hash[DM_TOKEN_HASH_HEX_SIZE];
        dm_token_hash_hex(text, hash);
        FUZZ_ASSERT(strlen(hash) == 64 && strspn(hash, "0123456789abcdef") == 64);
    }
    free(text);
    return 0;
}
