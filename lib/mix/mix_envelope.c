#include "mix/mix_envelope.h"

#include <errno.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"

static const char key_info[] = "nym-c/packet-key/v1";

static int body_key(uint8_t key[16], const uint8_t secret[32], const uint8_t public_key[32])
{
	uint8_t shared[32];
	int rc = nym_x25519(shared, secret, public_key);
	if (rc == 0)
		nym_hkdf_sha256(key, 16, NULL, 0, shared, sizeof(shared), key_info, sizeof(key_info) - 1);
	nym_memzero(shared, sizeof(shared));
	return rc;
}

size_t mix_envelope_body_len(size_t plaintext_len)
{
	return plaintext_len > MIX_ENVELOPE_BODY_OFF ? plaintext_len - MIX_ENVELOPE_BODY_OFF : 0;
}

int mix_envelope_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		      const uint8_t recipient_key[32], const uint8_t *body, size_t body_len,
		      const struct nym_rng *rng)
{
	if (body_len == 0 || body_len != mix_envelope_body_len(plaintext_len))
		return -EINVAL;
	struct nym_x25519_keypair eph;
	uint8_t key[16];
	static const uint8_t zero_iv[16];
	nym_rng_fill(rng, eph.secret, sizeof(eph.secret));
	nym_x25519_public(eph.public_key, eph.secret);
	int rc = body_key(key, eph.secret, recipient_key);
	if (rc == 0) {
		memcpy(out, ack->bytes, MIX_SURB_ACK_LEN);
		memcpy(out + MIX_ENVELOPE_KEY_OFF, eph.public_key, 32);
		nym_aes_ctr_xor_ctr64(key, zero_iv, body, out + MIX_ENVELOPE_BODY_OFF, body_len);
	}
	nym_x25519_keypair_clear(&eph);
	nym_memzero(key, sizeof(key));
	return rc;
}

int mix_envelope_open(uint8_t *forwarded, size_t len, const uint8_t recipient_secret[32],
		      uint8_t **body, size_t *body_len)
{
	if (len <= 32)
		return -EINVAL;
	uint8_t key[16];
	static const uint8_t zero_iv[16];
	int rc = body_key(key, recipient_secret, forwarded);
	if (rc)
		return -EINVAL;
	nym_aes_ctr_xor_ctr64(key, zero_iv, forwarded + 32, forwarded + 32, len - 32);
	nym_memzero(key, sizeof(key));
	*body = forwarded + 32;
	*body_len = len - 32;
	return 0;
}
