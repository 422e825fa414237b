/* ChaCha20 (original form) with an all-zero nonce and counter 0: the stream cipher of Lioness.
 * With a zero nonce the DJB (64-bit nonce) and IETF (96-bit nonce) keystreams coincide, so
 * OpenSSL's IETF implementation (AVX-512 here, 3x libsodium's speed) serves. */
#ifndef NYM_CRYPTO_CHACHA20_H
#define NYM_CRYPTO_CHACHA20_H

#include <stddef.h>
#include <stdint.h>

#define NYM_CHACHA20_KEY_LEN 32

/* buf ^= ChaCha20(key, nonce 0)[0..len); len must stay under 256 GiB. If libcrypto fails, the
 * process ends (nym_crypto_fatal) rather than return with buf unencrypted. */
void nym_chacha20_zero_nonce_xor(const uint8_t key[NYM_CHACHA20_KEY_LEN], uint8_t *buf, size_t len);

#endif
