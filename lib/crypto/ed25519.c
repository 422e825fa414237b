#include "crypto/ed25519.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/secret.h"

void nym_ed25519_generate(struct nym_ed25519_keypair *kp)
{
	uint8_t seed[NYM_ED25519_SEED_LEN];
	randombytes_buf(seed, sizeof(seed));
	nym_ed25519_from_seed(kp, seed);
	nym_memzero(seed, sizeof(seed));
}

void nym_ed25519_from_seed(struct nym_ed25519_keypair *kp, const uint8_t seed[NYM_ED25519_SEED_LEN])
{
	memcpy(kp->seed, seed, NYM_ED25519_SEED_LEN);
	if (crypto_sign_seed_keypair(kp->public_key, kp->expanded, seed) != 0)
		nym_crypto_fatal("Ed25519 key expansion");
}

void nym_ed25519_sign(const struct nym_ed25519_keypair *kp, const void *msg, size_t len,
		      uint8_t sig[NYM_ED25519_SIG_LEN])
{
	if (crypto_sign_detached(sig, NULL, msg, len, kp->expanded) != 0)
		nym_crypto_fatal("Ed25519 signing");
}

bool nym_ed25519_verify(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const void *msg, size_t len,
			const uint8_t sig[NYM_ED25519_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pub) == 0;
}

void nym_ed25519_keypair_clear(struct nym_ed25519_keypair *kp)
{
	nym_memzero(kp, sizeof(*kp));
}

int nym_ed25519_public_to_x25519(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], uint8_t x_pub[32])
{
	return crypto_sign_ed25519_pk_to_curve25519(x_pub, pub) == 0 ? 0 : -EINVAL;
}

void nym_ed25519_secret_to_x25519(const struct nym_ed25519_keypair *kp, uint8_t x_secret[32])
{
	if (crypto_sign_ed25519_sk_to_curve25519(x_secret, kp->expanded) != 0)
		nym_crypto_fatal("Ed25519 to X25519 secret conversion");
}
