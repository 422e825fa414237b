/* Lioness wide-block cipher (Anderson-Biham) as in burdges/lioness 0.1.2, instantiated with
 * ChaCha20 and keyed BLAKE2b-256: the Sphinx payload cipher. The block splits into L (32
 * bytes) and R (the rest); the 192-byte key into K1(32) K2(64) K3(32) K4(64). */
#ifndef NYM_CRYPTO_LIONESS_H
#define NYM_CRYPTO_LIONESS_H

#include <stddef.h>
#include <stdint.h>

#define NYM_LIONESS_KEY_LEN 192
#define NYM_LIONESS_MIN_BLOCK 33

/* In place. Return 0, -EINVAL when len < NYM_LIONESS_MIN_BLOCK, or -EIO when libcrypto's
 * BLAKE2b fails, with the block wiped. A ChaCha20 failure ends the process (chacha20.h). */
int nym_lioness_encrypt(const uint8_t key[NYM_LIONESS_KEY_LEN], uint8_t *block, size_t len);
int nym_lioness_decrypt(const uint8_t key[NYM_LIONESS_KEY_LEN], uint8_t *block, size_t len);

#endif
