#include "crypto/x25519.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/secret.h"

void nym_x25519_generate(struct nym_x25519_keypair *kp)
{
	randombytes_buf(kp->secret, sizeof(kp->secret));
	nym_x25519_public(kp->public_key, kp->secret);
}

void nym_x25519_public(uint8_t pub[NYM_X25519_LEN], const uint8_t secret[NYM_X25519_LEN])
{
	/* Only a zero result fails, impossible for the base point and a clamped scalar: a failure
	 * means the library is broken, and a zeroed key handed on would look like a real one. */
	if (crypto_scalarmult_base(pub, secret) != 0)
		nym_crypto_fatal("X25519 public key derivation");
}

int nym_x25519(uint8_t out[NYM_X25519_LEN], const uint8_t scalar[NYM_X25519_LEN],
	       const uint8_t point[NYM_X25519_LEN])
{
	/* libsodium's ladder writes its output before it has read all of its inputs, so callers
	 * that blind in place (out == point) need the copies. */
	uint8_t s[NYM_X25519_LEN], p[NYM_X25519_LEN];
	memcpy(s, scalar, sizeof(s));
	memcpy(p, point, sizeof(p));
	int rc = crypto_scalarmult(out, s, p) == 0 ? 0 : -EINVAL;
	nym_memzero(s, sizeof(s));
	return rc;
}

bool nym_x25519_is_canonical(const uint8_t point[NYM_X25519_LEN])
{
	/* u < p = 2^255 - 19, which every honest X25519 output satisfies. */
	if (point[31] & 0x80)
		return false;
	if (point[31] != 0x7f)
		return true;
	for (int i = 30; i >= 1; i--)
		if (point[i] != 0xff)
			return true;
	return point[0] < 0xed;
}

void nym_x25519_keypair_clear(struct nym_x25519_keypair *kp)
{
	nym_memzero(kp, sizeof(*kp));
}
