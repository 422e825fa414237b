/* Ed25519 identities and signatures. The secret is kept as the 32-byte seed (Nym's
 * ed25519-dalek form); the 64-byte libsodium expansion lives alongside it. */
#ifndef NYM_CRYPTO_ED25519_H
#define NYM_CRYPTO_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NYM_ED25519_PUBLIC_LEN 32
#define NYM_ED25519_SEED_LEN 32
#define NYM_ED25519_SIG_LEN 64

struct nym_ed25519_keypair {
	uint8_t seed[NYM_ED25519_SEED_LEN];
	uint8_t expanded[64];
	uint8_t public_key[NYM_ED25519_PUBLIC_LEN];
};

void nym_ed25519_generate(struct nym_ed25519_keypair *kp);
void nym_ed25519_from_seed(struct nym_ed25519_keypair *kp, const uint8_t seed[NYM_ED25519_SEED_LEN]);
void nym_ed25519_sign(const struct nym_ed25519_keypair *kp, const void *msg, size_t len,
		      uint8_t sig[NYM_ED25519_SIG_LEN]);
bool nym_ed25519_verify(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], const void *msg, size_t len,
			const uint8_t sig[NYM_ED25519_SIG_LEN]);
void nym_ed25519_keypair_clear(struct nym_ed25519_keypair *kp);

/* The X25519 key of the same key pair (the birational map of RFC 7748 section 4.1, as
 * libsodium's crypto_sign_ed25519_*_to_curve25519): a service that is addressed by a node's
 * identity (the exit gateway's IP packet router) gets an encryption key without publishing
 * one. Returns 0 or -EINVAL (a public key that is not a valid point). */
int nym_ed25519_public_to_x25519(const uint8_t pub[NYM_ED25519_PUBLIC_LEN], uint8_t x_pub[32]);
void nym_ed25519_secret_to_x25519(const struct nym_ed25519_keypair *kp, uint8_t x_secret[32]);

#endif
