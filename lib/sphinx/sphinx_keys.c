#include "sphinx/sphinx_keys.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/sha256.h"

/* EXPANDED_SHARED_SECRET_HKDF_INFO; the salt is empty. */
static const char expand_info[] = "Dwste mou enan moxlo arketa makru kai ena upomoxlio gia na "
				  "ton topothetisw kai tha kinisw thn gh.";
static const char payload_salt[] = "sphinx-payload-key-V01-CS01-HKDF:SHA256-SALT";
static const char payload_info[] = "sphinx-payload-key-V01-CS01-HKDF:SHA256-INFO";

/* Both salts are constants: their HMAC pad states are prepared once and copied per use. */
static struct nym_hmac_sha256_key expand_salt_key, payload_salt_key;
static pthread_once_t salts_once = PTHREAD_ONCE_INIT;

static void salts_init(void)
{
	nym_hmac_sha256_key_init(&expand_salt_key, "", 0);
	nym_hmac_sha256_key_init(&payload_salt_key, payload_salt, sizeof(payload_salt) - 1);
}

bool sphinx_version_supported(uint16_t version)
{
	return version == SPHINX_VERSION_258 || version == SPHINX_VERSION_259;
}

void sphinx_keys_expand(struct sphinx_hop_keys *keys, const uint8_t shared[32])
{
	pthread_once(&salts_once, salts_init);
	nym_hkdf_sha256_prepared(&expand_salt_key, shared, 32, expand_info, sizeof(expand_info) - 1,
				 (uint8_t *)keys, sizeof(*keys));
}

void sphinx_payload_key_from_seed(uint8_t out[SPHINX_PAYLOAD_KEY_LEN],
				  const uint8_t seed[SPHINX_PAYLOAD_SEED_LEN])
{
	pthread_once(&salts_once, salts_init);
	nym_hkdf_sha256_prepared(&payload_salt_key, seed, SPHINX_PAYLOAD_SEED_LEN, payload_info,
				 sizeof(payload_info) - 1, out, SPHINX_PAYLOAD_KEY_LEN);
}

int sphinx_payload_key(uint8_t out[SPHINX_PAYLOAD_KEY_LEN], const uint8_t material[SPHINX_PAYLOAD_KEY_LEN],
		       uint16_t version)
{
	switch (version) {
	case SPHINX_VERSION_258:
		memcpy(out, material, SPHINX_PAYLOAD_KEY_LEN);
		return 0;
	case SPHINX_VERSION_259:
		sphinx_payload_key_from_seed(out, material);
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

void sphinx_hop_keys_clear(struct sphinx_hop_keys *keys)
{
	nym_memzero(keys, sizeof(*keys));
}
