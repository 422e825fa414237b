#include "crypto/evp_cache.h"

#include <openssl/core_names.h>
#include <pthread.h>
#include <stdlib.h>

#include "crypto/secret.h"

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
	struct nym_evp_cache *c = p;
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->aes128ctr);
	EVP_CIPHER_CTX_free(c->chacha20);
	EVP_MAC_CTX_free(c->blake2b);
	EVP_MAC_free(c->blake2b_mac);
	free(c);
}

static void cache_key_create(void)
{
	if (pthread_key_create(&cache_key, cache_free) != 0)
		nym_crypto_fatal("creating the per-thread OpenSSL context key");
}

struct nym_evp_cache *nym_evp_cache_get(void)
{
	pthread_once(&cache_once, cache_key_create);
	struct nym_evp_cache *c = pthread_getspecific(cache_key);
	if (c)
		return c;
	static const unsigned char zero[32];
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->aes128ctr = EVP_CIPHER_CTX_new();
	c->chacha20 = EVP_CIPHER_CTX_new();
	c->blake2b_mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
	c->blake2b = c->blake2b_mac ? EVP_MAC_CTX_new(c->blake2b_mac) : NULL;
	if (!c->aes128ctr || !c->chacha20 || !c->blake2b ||
	    EVP_EncryptInit_ex(c->aes128ctr, EVP_aes_128_ctr(), NULL, zero, zero) != 1 ||
	    EVP_EncryptInit_ex(c->chacha20, EVP_chacha20(), NULL, zero, zero) != 1)
		goto fail;
	if (pthread_setspecific(cache_key, c) != 0)
		goto fail;
	return c;
fail:
	cache_free(c);
	nym_crypto_fatal("creating the thread's OpenSSL cipher contexts");
}

void nym_evp_cache_release(void)
{
	pthread_once(&cache_once, cache_key_create);
	cache_free(pthread_getspecific(cache_key));
	pthread_setspecific(cache_key, NULL);
}
