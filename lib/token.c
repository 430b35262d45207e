/* Confirmation tokens: random, base64url in links, only their hash stored. */
#include "token.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool dm_token_new(char out[DM_TOKEN_SIZE])
{
    unsigned char raw[DM_TOKEN_BYTES + 1] = {0}; /* +1: room for the last 3-byte group */
    size_t o = 0;

    if (RAND_bytes(raw, DM_TOKEN_BYTES) != 1)
        return false;
    for (size_t i = 0; i < DM_TOKEN_BYTES; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 |
                     (i + 2 < DM_TOKEN_BYTES ? raw[i + 2] : 0);
        size_t chars = DM_TOKEN_BYTES - i >= 3 ? 4 : (DM_TOKEN_BYTES - i) + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return o == DM_TOKEN_LEN;
}

bool dm_token_well_formed(const char *text)
{
    if (strlen(text) != DM_TOKEN_LEN)
        return false;
    for (const char *p = text; *p; p++)
        if (strchr(b64url, *p) == NULL)
            return false;
    return true;
}

void dm_token_hash_hex(const char *token, char out[DM_TOKEN_HASH_HEX_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n && i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}
