/* X25519 (RFC 7748) keys: Sphinx, Noise and WireGuard. Text form: base58 of the 32 raw
 * bytes, as Nym prints keys. */
#ifndef NYM_CRYPTO_X25519_H
#define NYM_CRYPTO_X25519_H

#include <stdbool.h>
#include <stdint.h>

#define NYM_X25519_LEN 32

struct nym_x25519_keypair {
	uint8_t secret[NYM_X25519_LEN];
	uint8_t public_key[NYM_X25519_LEN];
};

void nym_x25519_generate(struct nym_x25519_keypair *kp);
/* Derives the public key of a (possibly unclamped) secret. */
void nym_x25519_public(uint8_t pub[NYM_X25519_LEN], const uint8_t secret[NYM_X25519_LEN]);
/* out = X25519(scalar, point). Returns -EINVAL when the result is all zero (a small-order
 * point), which no honest peer produces. */
int nym_x25519(uint8_t out[NYM_X25519_LEN], const uint8_t scalar[NYM_X25519_LEN],
	       const uint8_t point[NYM_X25519_LEN]);
/* Whether a u-coordinate is in canonical form (below 2^255 - 19). X25519 itself ignores the
 * top bit and reduces, so two encodings can name one point; protocols that must not accept
 * malleable encodings check this first. */
bool nym_x25519_is_canonical(const uint8_t point[NYM_X25519_LEN]);
void nym_x25519_keypair_clear(struct nym_x25519_keypair *kp);

#endif
