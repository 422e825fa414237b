/* OpenSSL's low-level SHA-256 interface is deprecated in 3.0 but still shipped, and it is the
 * only one that lets a prepared HMAC state be copied by value: the EVP route costs 1.6x more
 * per Sphinx hop (measured: HKDF-288 in 2.2 us vs 3.7 us). It dispatches to SHA-NI. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/sha256.h"

#include <errno.h>
#include <string.h>

#include "crypto/secret.h"

#define BLOCK 64

/* The low-level calls only fail on a broken library; the void API above them cannot pass that
 * on, and a digest left unwritten must not be used as a key or a MAC. */
static inline void sha_ok(int rc)
{
	if (__builtin_expect(rc != 1, 0))
		nym_crypto_fatal("SHA-256");
}

void nym_sha256_init(struct nym_sha256 *h)
{
	sha_ok(SHA256_Init(&h->ctx));
}

void nym_sha256_update(struct nym_sha256 *h, const void *data, size_t len)
{
	sha_ok(SHA256_Update(&h->ctx, data, len));
}

void nym_sha256_final(struct nym_sha256 *h, uint8_t out[NYM_SHA256_LEN])
{
	sha_ok(SHA256_Final(out, &h->ctx));
	nym_memzero(&h->ctx, sizeof(h->ctx));
}

void nym_sha256(uint8_t out[NYM_SHA256_LEN], const void *data, size_t len)
{
	struct nym_sha256 h;
	nym_sha256_init(&h);
	nym_sha256_update(&h, data, len);
	nym_sha256_final(&h, out);
}

void nym_hmac_sha256_key_init(struct nym_hmac_sha256_key *k, const void *key, size_t key_len)
{
	uint8_t pad[BLOCK] = { 0 };
	if (key_len > BLOCK)
		nym_sha256(pad, key, key_len);
	else if (key_len)
		memcpy(pad, key, key_len);
	for (int i = 0; i < BLOCK; i++)
		pad[i] ^= 0x36;
	sha_ok(SHA256_Init(&k->inner));
	sha_ok(SHA256_Update(&k->inner, pad, BLOCK));
	for (int i = 0; i < BLOCK; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	sha_ok(SHA256_Init(&k->outer));
	sha_ok(SHA256_Update(&k->outer, pad, BLOCK));
	nym_memzero(pad, sizeof(pad));
}

void nym_hmac_sha256_key_clear(struct nym_hmac_sha256_key *k)
{
	nym_memzero(k, sizeof(*k));
}

void nym_hmac_sha256_prepared(const struct nym_hmac_sha256_key *k, const void *a, size_t a_len,
			      const void *b, size_t b_len, const void *c, size_t c_len,
			      uint8_t out[NYM_SHA256_LEN])
{
	SHA256_CTX ctx = k->inner;
	uint8_t inner[NYM_SHA256_LEN];
	if (a_len)
		sha_ok(SHA256_Update(&ctx, a, a_len));
	if (b_len)
		sha_ok(SHA256_Update(&ctx, b, b_len));
	if (c_len)
		sha_ok(SHA256_Update(&ctx, c, c_len));
	sha_ok(SHA256_Final(inner, &ctx));
	ctx = k->outer;
	sha_ok(SHA256_Update(&ctx, inner, sizeof(inner)));
	sha_ok(SHA256_Final(out, &ctx));
	nym_memzero(&ctx, sizeof(ctx));
	nym_memzero(inner, sizeof(inner));
}

void nym_hmac_sha256(uint8_t out[NYM_SHA256_LEN], const void *key, size_t key_len,
		     const void *msg, size_t msg_len)
{
	struct nym_hmac_sha256_key k;
	nym_hmac_sha256_key_init(&k, key, key_len);
	nym_hmac_sha256_prepared(&k, msg, msg_len, NULL, 0, NULL, 0, out);
	nym_hmac_sha256_key_clear(&k);
}

void nym_hmac_sha256_16(uint8_t out[NYM_HMAC16_LEN], const void *key, size_t key_len,
			const void *msg, size_t msg_len)
{
	uint8_t full[NYM_SHA256_LEN];
	nym_hmac_sha256(full, key, key_len, msg, msg_len);
	memcpy(out, full, NYM_HMAC16_LEN);
	nym_memzero(full, sizeof(full));
}

int nym_hkdf_sha256_prepared(const struct nym_hmac_sha256_key *salt, const void *ikm,
			     size_t ikm_len, const void *info, size_t info_len, uint8_t *out,
			     size_t out_len)
{
	if (out_len > 255 * NYM_SHA256_LEN)
		return -EINVAL;
	uint8_t prk[NYM_SHA256_LEN], t[NYM_SHA256_LEN];
	struct nym_hmac_sha256_key prk_key;

	nym_hmac_sha256_prepared(salt, ikm, ikm_len, NULL, 0, NULL, 0, prk);
	nym_hmac_sha256_key_init(&prk_key, prk, sizeof(prk));
	size_t done = 0;
	for (uint8_t counter = 1; done < out_len; counter++) {
		/* T(n) = HMAC(PRK, T(n-1) | info | n), T(0) empty */
		nym_hmac_sha256_prepared(&prk_key, t, done ? sizeof(t) : 0, info, info_len, &counter,
					 1, t);
		size_t take = out_len - done < sizeof(t) ? out_len - done : sizeof(t);
		memcpy(out + done, t, take);
		done += take;
	}
	nym_hmac_sha256_key_clear(&prk_key);
	nym_memzero(prk, sizeof(prk));
	nym_memzero(t, sizeof(t));
	return 0;
}

int nym_hkdf_sha256(uint8_t *out, size_t out_len, const void *salt, size_t salt_len,
		    const void *ikm, size_t ikm_len, const void *info, size_t info_len)
{
	struct nym_hmac_sha256_key s;
	nym_hmac_sha256_key_init(&s, salt, salt_len);
	int rc = nym_hkdf_sha256_prepared(&s, ikm, ikm_len, info, info_len, out, out_len);
	nym_hmac_sha256_key_clear(&s);
	return rc;
}
