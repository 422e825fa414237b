/* AES-128 in counter mode.
 *
 * Two counter widths exist in Nym: the Sphinx header uses a full 128-bit big-endian counter
 * (with a zero IV and at most 23 blocks the two are indistinguishable), while end-to-end,
 * reply-SURB and acknowledgement encryption use Ctr64BE: only the low 8 bytes of the IV count,
 * wrapping without carry into the high 8 bytes.
 *
 * These cannot return an error: if libcrypto fails, the process ends (nym_crypto_fatal) rather
 * than return with the buffer unencrypted. */
#ifndef NYM_CRYPTO_AES_CTR_H
#define NYM_CRYPTO_AES_CTR_H

#include <stddef.h>
#include <stdint.h>

#define NYM_AES128_KEY_LEN 16
#define NYM_AES_CTR_IV_LEN 16

/* buf ^= keystream(key, iv) with a 128-bit counter. In place is allowed (in == out). */
void nym_aes_ctr_xor(const uint8_t key[NYM_AES128_KEY_LEN], const uint8_t iv[NYM_AES_CTR_IV_LEN],
		       const uint8_t *in, uint8_t *out, size_t len);

/* The keystream itself, zero IV. */
void nym_aes_ctr_keystream(const uint8_t key[NYM_AES128_KEY_LEN], uint8_t *out, size_t len);

/* buf ^= keystream with Nym's 64-bit counter (Ctr64BE). */
void nym_aes_ctr_xor_ctr64(const uint8_t key[NYM_AES128_KEY_LEN],
			 const uint8_t iv[NYM_AES_CTR_IV_LEN], const uint8_t *in, uint8_t *out,
			 size_t len);

#endif
