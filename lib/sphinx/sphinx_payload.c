#include "sphinx/sphinx_payload.h"

#include <errno.h>
#include <string.h>

#include "crypto/lioness.h"
#include "crypto/secret.h"
#include "sphinx/sphinx_keys.h"

#define ZERO_PREFIX 16

size_t sphinx_payload_capacity(size_t payload_size)
{
	return payload_size < SPHINX_PAYLOAD_MIN ? 0 : payload_size - SPHINX_PAYLOAD_OVERHEAD;
}

int sphinx_payload_encode(uint8_t *payload, size_t payload_size, const uint8_t *msg, size_t msg_len)
{
	if (payload_size < SPHINX_PAYLOAD_MIN || msg_len > sphinx_payload_capacity(payload_size))
		return -EMSGSIZE;
	memset(payload, 0, ZERO_PREFIX);
	if (msg_len)
		memmove(payload + ZERO_PREFIX, msg, msg_len);
	payload[ZERO_PREFIX + msg_len] = 0x01;
	memset(payload + ZERO_PREFIX + msg_len + 1, 0, payload_size - ZERO_PREFIX - msg_len - 1);
	return 0;
}

static int apply_layer(uint8_t *payload, size_t payload_size, const uint8_t *material,
		       uint16_t version, int encrypt)
{
	uint8_t key[SPHINX_PAYLOAD_KEY_LEN];
	int rc = sphinx_payload_key(key, material, version);
	if (rc == 0)
		rc = encrypt ? nym_lioness_encrypt(key, payload, payload_size)
			     : nym_lioness_decrypt(key, payload, payload_size);
	nym_memzero(key, sizeof(key));
	return rc;
}

int sphinx_payload_encrypt(uint8_t *payload, size_t payload_size,
			   const uint8_t (*material)[SPHINX_PAYLOAD_KEY_LEN], size_t hops,
			   uint16_t version)
{
	for (size_t i = hops; i-- > 0;) {
		int rc = apply_layer(payload, payload_size, material[i], version, 1);
		if (rc)
			return rc;
	}
	return 0;
}

int sphinx_payload_decrypt(uint8_t *payload, size_t payload_size,
			   const uint8_t material[SPHINX_PAYLOAD_KEY_LEN], uint16_t version)
{
	return apply_layer(payload, payload_size, material, version, 0);
}

int sphinx_payload_recover(const uint8_t *payload, size_t payload_size, size_t *msg_off,
			   size_t *msg_len)
{
	static const uint8_t zeros[ZERO_PREFIX];
	if (payload_size < SPHINX_PAYLOAD_MIN || memcmp(payload, zeros, ZERO_PREFIX) != 0)
		return -EBADMSG;
	const uint8_t *body = payload + ZERO_PREFIX;
	const uint8_t *marker = memrchr(body, 0x01, payload_size - ZERO_PREFIX);
	if (!marker)
		return -EBADMSG;
	*msg_off = ZERO_PREFIX;
	*msg_len = (size_t)(marker - body);
	return 0;
}
