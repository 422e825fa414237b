/* Lowercase hexadecimal, as every JSON interface of the project writes bytes. */
#ifndef NYM_UTIL_HEX_H
#define NYM_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len digits and a terminating NUL; out must hold 2*len+1 bytes. */
void nym_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decodes exactly `len` bytes: the string must be 2*len hex digits (either case).
 * Returns 0 or -EINVAL. */
int nym_hex_decode_exact(uint8_t *out, size_t len, const char *hex);

/* Decodes a hex string of any even length up to `cap` bytes into out; *out_len gets the
 * length. Returns 0, -EINVAL (odd length or a non-hex digit) or -EMSGSIZE. */
int nym_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *hex);

#endif
