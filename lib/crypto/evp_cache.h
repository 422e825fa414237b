/* Per-thread OpenSSL cipher and MAC contexts, created on first use and kept for the life of
 * the thread: rekeying a live context costs a fraction of building one, and these run once
 * or more per Sphinx hop. Freed when the thread exits (or by nym_evp_cache_release). */
#ifndef NYM_CRYPTO_EVP_CACHE_H
#define NYM_CRYPTO_EVP_CACHE_H

#include <openssl/evp.h>

struct nym_evp_cache {
	EVP_CIPHER_CTX *aes128ctr;
	EVP_CIPHER_CTX *chacha20;
	EVP_MAC *blake2b_mac;
	EVP_MAC_CTX *blake2b;
};

/* The calling thread's contexts; aborts if OpenSSL cannot allocate them (out of memory). */
struct nym_evp_cache *nym_evp_cache_get(void);

/* Frees the calling thread's contexts now (for the main thread before exit, so leak checkers
 * stay quiet). */
void nym_evp_cache_release(void);

#endif
