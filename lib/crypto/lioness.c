#include "crypto/lioness.h"

#include <errno.h>

#include "crypto/blake2b.h"
#include "crypto/chacha20.h"
#include "crypto/secret.h"

#define L_LEN 32
#define K1 0
#define K2 32
#define K3 96
#define K4 128

/* R ^= ChaCha20(L ^ k) */
static void stream_round(const uint8_t *k, const uint8_t *l, uint8_t *r, size_t r_len)
{
	uint8_t round_key[L_LEN];
	for (int i = 0; i < L_LEN; i++)
		round_key[i] = l[i] ^ k[i];
	nym_chacha20_zero_nonce_xor(round_key, r, r_len);
	nym_memzero(round_key, sizeof(round_key));
}

/* L ^= BLAKE2b-256(key = k (64 bytes), R) */
static int hash_round(const uint8_t *k, uint8_t *l, const uint8_t *r, size_t r_len)
{
	uint8_t digest[L_LEN];
	int rc = nym_blake2b_keyed(digest, sizeof(digest), k, 64, r, r_len);
	if (rc == 0)
		for (int i = 0; i < L_LEN; i++)
			l[i] ^= digest[i];
	nym_memzero(digest, sizeof(digest));
	return rc;
}

/* A block whose rounds did not all run is wiped: neither the input nor a half-transformed
 * block may be taken for a result. */
static int finish(uint8_t *block, size_t len, int rc)
{
	if (rc)
		nym_memzero(block, len);
	return rc;
}

int nym_lioness_encrypt(const uint8_t key[NYM_LIONESS_KEY_LEN], uint8_t *block, size_t len)
{
	if (len < NYM_LIONESS_MIN_BLOCK)
		return -EINVAL;
	uint8_t *l = block, *r = block + L_LEN;
	size_t r_len = len - L_LEN;
	stream_round(key + K1, l, r, r_len);
	int rc = hash_round(key + K2, l, r, r_len);
	if (rc == 0) {
		stream_round(key + K3, l, r, r_len);
		rc = hash_round(key + K4, l, r, r_len);
	}
	return finish(block, len, rc);
}

int nym_lioness_decrypt(const uint8_t key[NYM_LIONESS_KEY_LEN], uint8_t *block, size_t len)
{
	if (len < NYM_LIONESS_MIN_BLOCK)
		return -EINVAL;
	uint8_t *l = block, *r = block + L_LEN;
	size_t r_len = len - L_LEN;
	int rc = hash_round(key + K4, l, r, r_len);
	if (rc == 0) {
		stream_round(key + K3, l, r, r_len);
		rc = hash_round(key + K2, l, r, r_len);
	}
	if (rc == 0)
		stream_round(key + K1, l, r, r_len);
	return finish(block, len, rc);
}
