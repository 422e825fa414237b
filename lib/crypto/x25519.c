#include "crypto/x25519.h"

#include <errno.h>
#include <sodium.h>

#include "crypto/secret.h"

void nym_x25519_generate(struct nym_x25519_keypair *kp)
{
	randombytes_buf(kp->secret, sizeof(kp->secret));
	nym_x25519_public(kp->public_key, kp->secret);
}

void nym_x25519_public(uint8_t pub[NYM_X25519_LEN], const uint8_t secret[NYM_X25519_LEN])
{
	/* Only fails for a zero result, impossible for the base point and a clamped scalar. */
	if (crypto_scalarmult_base(pub, secret) != 0)
		sodium_memzero(pub, NYM_X25519_LEN);
}

int nym_x25519(uint8_t out[NYM_X25519_LEN], const uint8_t scalar[NYM_X25519_LEN],
	       const uint8_t point[NYM_X25519_LEN])
{
	return crypto_scalarmult(out, scalar, point) == 0 ? 0 : -EINVAL;
}

void nym_x25519_keypair_clear(struct nym_x25519_keypair *kp)
{
	nym_memzero(kp, sizeof(*kp));
}
