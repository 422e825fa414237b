#include "crypto/chacha20.h"

#include <limits.h>

#include "crypto/evp_cache.h"
#include "crypto/secret.h"

void nym_chacha20_zero_nonce_xor(const uint8_t key[NYM_CHACHA20_KEY_LEN], uint8_t *buf, size_t len)
{
	/* OpenSSL's 16-byte IV: 32-bit little-endian block counter, then the 96-bit nonce. */
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *ctx = nym_evp_cache_get()->chacha20;
	int n;
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) != 1)
		nym_crypto_fatal("ChaCha20 keying");
	while (len) {
		int chunk = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		if (EVP_EncryptUpdate(ctx, buf, &n, buf, chunk) != 1 || n != chunk)
			nym_crypto_fatal("ChaCha20");
		buf += chunk;
		len -= (size_t)chunk;
	}
}
