#include "mix/mix_envelope.h"

#include <errno.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"
#include "crypto/x25519_batch.h"

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

size_t mix_envelope_unacked_body_len(size_t plaintext_len)
{
	return plaintext_len > MIX_ENVELOPE_UNACKED_BODY_OFF ? plaintext_len - MIX_ENVELOPE_UNACKED_BODY_OFF : 0;
}

static size_t body_len_for(size_t plaintext_len, const struct mix_surb_ack *ack)
{
	return ack ? mix_envelope_body_len(plaintext_len) : mix_envelope_unacked_body_len(plaintext_len);
}

/* The layout's front: the SURB-ACK or a zero first hop; returns the key's offset. */
static size_t put_front(uint8_t *out, const struct mix_surb_ack *ack)
{
	if (!ack) {
		memset(out, 0, MIX_SURB_ACK_HOP_LEN);
		return MIX_ENVELOPE_UNACKED_KEY_OFF;
	}
	memcpy(out, ack->bytes, MIX_SURB_ACK_LEN);
	return MIX_ENVELOPE_KEY_OFF;
}

int mix_envelope_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		      const uint8_t recipient_key[32], const uint8_t *body, size_t body_len,
		      const struct nym_rng *rng)
{
	if (body_len == 0 || body_len != body_len_for(plaintext_len, ack))
		return -EINVAL;
	struct nym_x25519_keypair eph;
	uint8_t key[16];
	static const uint8_t zero_iv[16];
	nym_rng_fill(rng, eph.secret, sizeof(eph.secret));
	nym_x25519_public(eph.public_key, eph.secret);
	int rc = body_key(key, eph.secret, recipient_key);
	if (rc == 0) {
		size_t off = put_front(out, ack);
		memcpy(out + off, eph.public_key, 32);
		nym_aes_ctr_xor_ctr64(key, zero_iv, body, out + off + 32, body_len);
	}
	nym_x25519_keypair_clear(&eph);
	nym_memzero(key, sizeof(key));
	return rc;
}

#define SEAL_BATCH 8 /* packets: 16 curve operations, two groups of eight lanes */

void mix_envelope_seal_batch(uint8_t *const *outs, size_t plaintext_len, const struct mix_surb_ack *const *acks,
			     const uint8_t *const *recipient_keys, const uint8_t *const *bodies, const size_t *body_lens,
			     const struct nym_rng *rng, int *rc, size_t n)
{
	static const uint8_t zero_iv[16], base[32] = { 9 };
	for (size_t first = 0; first < n; first += SEAL_BATCH) {
		size_t m = n - first < SEAL_BATCH ? n - first : SEAL_BATCH;
		uint8_t scalar[2 * SEAL_BATCH][32], point[2 * SEAL_BATCH][32], out[2 * SEAL_BATCH][32], key[16];
		int xrc[2 * SEAL_BATCH];
		/* Lanes 0..m-1: the ephemeral public keys; m..2m-1: the shared secrets. */
		for (size_t j = 0; j < m; j++) {
			nym_rng_fill(rng, scalar[j], 32);
			memcpy(scalar[m + j], scalar[j], 32);
			memcpy(point[j], base, 32);
			memcpy(point[m + j], recipient_keys[first + j], 32);
		}
		nym_x25519_batch(out, (const uint8_t(*)[32])scalar, (const uint8_t(*)[32])point, xrc, 2 * m);
		for (size_t j = 0; j < m; j++) {
			size_t k = first + j;
			if (body_lens[k] == 0 || body_lens[k] != body_len_for(plaintext_len, acks[k])) {
				rc[k] = -EINVAL;
				continue;
			}
			rc[k] = xrc[m + j];
			if (rc[k])
				continue;
			nym_hkdf_sha256(key, sizeof(key), NULL, 0, out[m + j], 32, key_info, sizeof(key_info) - 1);
			size_t off = put_front(outs[k], acks[k]);
			memcpy(outs[k] + off, out[j], 32);
			nym_aes_ctr_xor_ctr64(key, zero_iv, bodies[k], outs[k] + off + 32, body_lens[k]);
		}
		nym_memzero(scalar, sizeof(scalar));
		nym_memzero(out, sizeof(out));
		nym_memzero(key, sizeof(key));
	}
}

int mix_envelope_item_split(uint8_t *item, size_t len, uint8_t **keyed, size_t *keyed_len)
{
	if (len <= MIX_ENVELOPE_ITEM_ACK_LEN + 32)
		return -EINVAL;
	uint8_t acc = 0;
	for (size_t i = 0; i < MIX_ENVELOPE_ITEM_ACK_LEN; i++)
		acc |= item[i];
	size_t off = acc ? 0 : MIX_ENVELOPE_ITEM_ACK_LEN;
	*keyed = item + off;
	*keyed_len = len - off;
	return 0;
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
