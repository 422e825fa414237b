/* Base58 with the Bitcoin alphabet: Nym's text form for public keys and identities. */
#ifndef NYM_UTIL_BASE58_H
#define NYM_UTIL_BASE58_H

#include <stddef.h>
#include <stdint.h>

/* Upper bound of the encoded length of `len` bytes, NUL included. */
#define NYM_BASE58_ENCODED_MAX(len) ((len) * 138 / 100 + 2)

/* Encodes into out (NUL terminated). Returns the string length or -ENOSPC. Inputs longer
 * than 256 bytes are refused with -EMSGSIZE: base58 is for keys, not bulk data. */
int nym_base58_encode(char *out, size_t out_size, const uint8_t *in, size_t len);

/* Decodes into out. Returns 0 and sets *out_len, or -EINVAL (a character outside the
 * alphabet, or an empty string) or -EMSGSIZE (does not fit in cap bytes). */
int nym_base58_decode(uint8_t *out, size_t cap, size_t *out_len, const char *text);

/* Decodes a string that must hold exactly `len` bytes (a key). Returns 0 or -EINVAL. */
int nym_base58_decode_exact(uint8_t *out, size_t len, const char *text);

#endif
