/* Keyed BLAKE2b (the key goes in the parameter block, RFC 7693), not a truncated digest. */
#ifndef NYM_CRYPTO_BLAKE2B_H
#define NYM_CRYPTO_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define NYM_BLAKE2B_MAX_KEY 64
#define NYM_BLAKE2B_MAX_OUT 64

/* out_len in 1..64, key_len in 1..64. Returns 0, -EINVAL, or -EIO when libcrypto fails. */
int nym_blake2b_keyed(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
		      const void *msg, size_t msg_len);

#endif
