/* SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869).
 *
 * Sphinx spends a large part of its non-curve time here (an HKDF of 288 bytes per hop), so
 * HMAC keys can be prepared once (the inner and outer pad states) and reused: the Sphinx KDF
 * salt is a constant, and each HKDF expansion reuses one prepared PRK for every block. */
#ifndef NYM_CRYPTO_SHA256_H
#define NYM_CRYPTO_SHA256_H

#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

#define NYM_SHA256_LEN 32
#define NYM_HMAC16_LEN 16

struct nym_sha256 {
	SHA256_CTX ctx;
};

void nym_sha256_init(struct nym_sha256 *h);
void nym_sha256_update(struct nym_sha256 *h, const void *data, size_t len);
void nym_sha256_final(struct nym_sha256 *h, uint8_t out[NYM_SHA256_LEN]);
void nym_sha256(uint8_t out[NYM_SHA256_LEN], const void *data, size_t len);

/* An HMAC-SHA256 key with its pad states absorbed. Holds key material: zero it with
 * nym_hmac_sha256_key_clear when done. */
struct nym_hmac_sha256_key {
	SHA256_CTX inner, outer;
};

void nym_hmac_sha256_key_init(struct nym_hmac_sha256_key *k, const void *key, size_t key_len);
void nym_hmac_sha256_key_clear(struct nym_hmac_sha256_key *k);

/* HMAC over the concatenation of up to three parts (NULL/0 parts are skipped). */
void nym_hmac_sha256_prepared(const struct nym_hmac_sha256_key *k, const void *a, size_t a_len,
			      const void *b, size_t b_len, const void *c, size_t c_len,
			      uint8_t out[NYM_SHA256_LEN]);
void nym_hmac_sha256(uint8_t out[NYM_SHA256_LEN], const void *key, size_t key_len,
		     const void *msg, size_t msg_len);

/* HMAC-SHA256 truncated to its first 16 bytes (the Sphinx header MAC). */
void nym_hmac_sha256_16(uint8_t out[NYM_HMAC16_LEN], const void *key, size_t key_len,
			const void *msg, size_t msg_len);

/* HKDF-SHA256 with a salt prepared as an HMAC key (see nym_hkdf_salt_init): extract then
 * expand `out_len` (<= 255*32) bytes. Returns 0 or -EINVAL for an impossible length. */
int nym_hkdf_sha256_prepared(const struct nym_hmac_sha256_key *salt, const void *ikm,
			     size_t ikm_len, const void *info, size_t info_len, uint8_t *out,
			     size_t out_len);
int nym_hkdf_sha256(uint8_t *out, size_t out_len, const void *salt, size_t salt_len,
		    const void *ikm, size_t ikm_len, const void *info, size_t info_len);

#endif
