#include "noise/noise_cipher.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "crypto/secret.h"

#define NONCE_LEN 12

void noise_cipher_init(struct noise_cipher *c)
{
	memset(c, 0, sizeof(*c));
	c->dir = -1;
}

void noise_cipher_set_key(struct noise_cipher *c, const uint8_t k[NOISE_KEY_LEN])
{
	memcpy(c->k, k, NOISE_KEY_LEN);
	c->has_key = true;
	c->n = 0;
	c->dir = -1; /* the context must be rekeyed before its next use */
}

bool noise_cipher_has_key(const struct noise_cipher *c)
{
	return c->has_key;
}

/* Keys the context for a direction if it is not already; sets the nonce for this message. */
static int prepare(struct noise_cipher *c, int dir)
{
	uint8_t nonce[NONCE_LEN] = { 0 };
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(c->n >> (56 - 8 * i));
	if (!c->ctx) {
		c->ctx = EVP_CIPHER_CTX_new();
		if (!c->ctx)
			return -ENOMEM;
	}
	const uint8_t *key = NULL;
	const EVP_CIPHER *cipher = NULL;
	if (c->dir != dir) {
		key = c->k;
		cipher = EVP_aes_256_gcm();
	}
	if (EVP_CipherInit_ex(c->ctx, cipher, NULL, key, nonce, dir) != 1)
		return -ENOMEM;
	c->dir = dir;
	return 0;
}

/* Without a key (Noise's empty k) a message goes as it is. */
static int passthrough(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *written)
{
	if (cap < len)
		return -ENOSPC;
	if (len)
		memmove(out, in, len);
	*written = len;
	return 0;
}

int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *written)
{
	int n;
	if (!c->has_key)
		return passthrough(in, len, out, cap, written);
	if (len > INT_MAX - NOISE_TAG_LEN || ad_len > INT_MAX)
		return -EMSGSIZE;
	if (cap < len + NOISE_TAG_LEN)
		return -ENOSPC;
	if (c->n == UINT64_MAX)
		return -EOVERFLOW;
	int r = prepare(c, 1);
	if (r)
		return r;
	if ((ad_len && EVP_EncryptUpdate(c->ctx, NULL, &n, ad, (int)ad_len) != 1) ||
	    (len && EVP_EncryptUpdate(c->ctx, out, &n, in, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(c->ctx, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, NOISE_TAG_LEN, out + len) != 1)
		return -ENOMEM;
	c->n++;
	*written = len + NOISE_TAG_LEN;
	return 0;
}

int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *written)
{
	int n;
	if (!c->has_key)
		return passthrough(in, len, out, cap, written);
	if (len < NOISE_TAG_LEN)
		return -EMSGSIZE;
	size_t pt_len = len - NOISE_TAG_LEN;
	if (pt_len > INT_MAX || ad_len > INT_MAX)
		return -EMSGSIZE;
	if (cap < pt_len)
		return -ENOSPC;
	if (c->n == UINT64_MAX)
		return -EOVERFLOW;
	int r = prepare(c, 0);
	if (r)
		return r;
	/* The tag sits after the ciphertext; with out == in decryption overwrites only the
	 * ciphertext, so copy the tag out first. */
	uint8_t tag[NOISE_TAG_LEN];
	memcpy(tag, in + pt_len, NOISE_TAG_LEN);
	r = 0;
	if ((ad_len && EVP_DecryptUpdate(c->ctx, NULL, &n, ad, (int)ad_len) != 1) ||
	    (pt_len && EVP_DecryptUpdate(c->ctx, out, &n, in, (int)pt_len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, NOISE_TAG_LEN, tag) != 1)
		r = -ENOMEM;
	else if (EVP_DecryptFinal_ex(c->ctx, out + pt_len, &n) != 1)
		r = -EBADMSG;
	if (r) {
		/* Unauthenticated plaintext must not be left behind. */
		nym_memzero(out, pt_len);
		return r;
	}
	c->n++;
	*written = pt_len;
	return 0;
}

void noise_cipher_clear(struct noise_cipher *c)
{
	EVP_CIPHER_CTX_free(c->ctx);
	nym_memzero(c, sizeof(*c));
	c->dir = -1;
}
