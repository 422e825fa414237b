/* Secrets hygiene and randomness: everything that touches key material goes through here. */
#ifndef NYM_CRYPTO_SECRET_H
#define NYM_CRYPTO_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Initialises libsodium. Call once before any other crypto function; returns 0 or -EIO. */
int nym_crypto_init(void);

/* Ends the process after one log line naming the primitive that failed. For the wrappers whose
 * callers cannot act on an error (stream ciphers that encrypt in place, hashes, signing):
 * returning would leave plaintext where ciphertext was expected, or an output never written.
 * `what` names an operation; it must never carry key material. */
_Noreturn void nym_crypto_fatal(const char *what);

/* Zeroes memory in a way the compiler cannot drop. */
void nym_memzero(void *p, size_t len);

/* Constant-time equality of two buffers of the same length. */
bool nym_ct_equal(const void *a, const void *b, size_t len);

/* Cryptographically secure random bytes. */
void nym_random(void *out, size_t len);

/* A source of random bytes. Production code passes NULL, meaning nym_random; tests inject a
 * deterministic source to reproduce packets byte for byte. */
struct nym_rng {
	void (*fill)(void *ctx, uint8_t *out, size_t len);
	void *ctx;
};

void nym_rng_fill(const struct nym_rng *rng, void *out, size_t len);

/* A reproducible source: the ChaCha20 keystream (zero nonce) of a 32-byte seed, the same
 * stream as rand_chacha's ChaCha20Rng::from_seed. For tests and debug tools only. */
struct nym_seeded_rng {
	uint8_t seed[32];
	uint64_t offset;
};

struct nym_rng nym_seeded_rng_init(struct nym_seeded_rng *state, const uint8_t seed[32]);

/* Uniform double in (0, 1), never 0, from the given source. */
double nym_rng_unit(const struct nym_rng *rng);

#endif
