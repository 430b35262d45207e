/* Confirmation tokens: random, base64url in links, only their hash stored. */
#ifndef DM_TOKEN_H
#define DM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

/* Random bytes per token: 256 bits, comfortably over the 128 required. */
#define DM_TOKEN_BYTES 32
/* Length of the base64url text (no padding) and its buffer size. */
#define DM_TOKEN_LEN  43
#define DM_TOKEN_SIZE (DM_TOKEN_LEN + 1)
/* Hex of the SHA-256 of the token text, as stored (decode(hex) -> bytea). */
#define DM_TOKEN_HASH_HEX_SIZE 65

/* Makes a new token from OpenSSL's RAND_bytes into out (NUL-terminated).
 * False only when the random source fails. */
bool dm_token_new(char out[DM_TOKEN_SIZE]) DM_MUST_CHECK;

/* True when text has the shape of a token (43 base64url characters):
 * anything else is rejected before it reaches the database. */
bool dm_token_well_formed(const char *text);

/* Lower-case hex SHA-256 of the token text; the database stores
 * decode(hex, 'hex') and equivalently computes sha256(convert_to(token, 'UTF8')). */
void dm_token_hash_hex(const char *token, char out[DM_TOKEN_HASH_HEX_SIZE]);

#endif
