#include "crypto/aes_ctr.h"

#include <limits.h>
#include <string.h>

#include "crypto/evp_cache.h"
#include "crypto/secret.h"

#define BLOCK 16

void nym_aes_ctr_xor(const uint8_t key[NYM_AES128_KEY_LEN], const uint8_t iv[NYM_AES_CTR_IV_LEN],
		       const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = nym_evp_cache_get()->aes128ctr;
	int n;
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) != 1)
		nym_crypto_fatal("AES-128-CTR keying");
	while (len) {
		int chunk = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		/* A counter mode turns every input byte into one output byte at once. */
		if (EVP_EncryptUpdate(ctx, out, &n, in, chunk) != 1 || n != chunk)
			nym_crypto_fatal("AES-128-CTR");
		in += chunk;
		out += chunk;
		len -= (size_t)chunk;
	}
}

void nym_aes_ctr_keystream(const uint8_t key[NYM_AES128_KEY_LEN], uint8_t *out, size_t len)
{
	static const uint8_t zero_iv[NYM_AES_CTR_IV_LEN];
	memset(out, 0, len);
	nym_aes_ctr_xor(key, zero_iv, out, out, len);
}

void nym_aes_ctr_xor_ctr64(const uint8_t key[NYM_AES128_KEY_LEN],
			 const uint8_t iv[NYM_AES_CTR_IV_LEN], const uint8_t *in, uint8_t *out,
			 size_t len)
{
	uint8_t cur[NYM_AES_CTR_IV_LEN];
	memcpy(cur, iv, sizeof(cur));
	uint64_t low = 0;
	for (int i = 8; i < 16; i++)
		low = low << 8 | cur[i];
	/* OpenSSL carries into the high half; split the stream where the low half wraps. */
	while (len) {
		uint64_t blocks_to_wrap = (uint64_t)0 - low; /* 0 means 2^64: never in practice */
		size_t seg = len;
		if (blocks_to_wrap && blocks_to_wrap <= len / BLOCK)
			seg = (size_t)blocks_to_wrap * BLOCK;
		nym_aes_ctr_xor(key, cur, in, out, seg);
		in += seg;
		out += seg;
		len -= seg;
		low += seg / BLOCK;
		for (int i = 15; i >= 8; i--)
			cur[i] = (uint8_t)(low >> (8 * (15 - i)));
	}
}
