/* Noise CipherState for the AESGCM cipher (Noise spec §5.1, §12.4): AES-256-GCM through
 * OpenSSL, 96-bit nonce = 4 zero bytes || 64-bit big-endian counter, 16-byte tag appended.
 *
 * The OpenSSL context keeps the expanded key, so a long-lived direction of a transport only
 * sets the nonce per message. Nonce 2^64-1 is reserved by Noise; reaching it is an error
 * (no rekey: Nym's transport never rekeys, and 2^64 messages do not happen). */
#ifndef NYM_NOISE_NOISE_CIPHER_H
#define NYM_NOISE_NOISE_CIPHER_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN 32
#define NOISE_TAG_LEN 16

struct noise_cipher {
	EVP_CIPHER_CTX *ctx; /* keyed for `dir`; created on first use */
	int dir;	     /* 1 encrypt, 0 decrypt, -1 not keyed yet */
	bool has_key;
	uint64_t n;
	uint8_t k[NOISE_KEY_LEN];
};

/* An empty cipher state (no key: encryption is the identity, as the spec says). */
void noise_cipher_init(struct noise_cipher *c);

/* InitializeKey: sets the key and resets the nonce to 0. */
void noise_cipher_set_key(struct noise_cipher *c, const uint8_t k[NOISE_KEY_LEN]);

bool noise_cipher_has_key(const struct noise_cipher *c);

/* EncryptWithAd: out gets len + 16 bytes (len if no key). In place (out == in) is allowed.
 * Returns 0, -ENOSPC, -EOVERFLOW (nonce exhausted) or -ENOMEM. */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *written);

/* DecryptWithAd: out gets len - 16 bytes. In place is allowed. On -EBADMSG (failed
 * authentication) the nonce is not advanced and out is zeroed. Also -EMSGSIZE (shorter than
 * a tag), -ENOSPC, -EOVERFLOW, -ENOMEM. */
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
			 const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *written);

/* Frees the OpenSSL context (which cleanses its key schedule) and zeroes the state. */
void noise_cipher_clear(struct noise_cipher *c);

#endif
