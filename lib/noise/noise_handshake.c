#include "noise/noise_handshake.h"

#include <errno.h>
#include <string.h>

#include "crypto/sha256.h"

_Static_assert(sizeof(NOISE_PROTOCOL_NAME) - 1 == NOISE_HASH_LEN,
	       "a 32-byte protocol name is used as h directly, without hashing");

void noise_nym_psk(uint8_t psk[NOISE_PSK_LEN], const uint8_t responder_static[NOISE_DH_LEN])
{
	struct nym_sha256 h;
	nym_sha256_init(&h);
	nym_sha256_update(&h, NOISE_NYM_PSK_PREFIX, sizeof(NOISE_NYM_PSK_PREFIX) - 1);
	nym_sha256_update(&h, responder_static, NOISE_DH_LEN);
	nym_sha256_final(&h, psk);
}

static void mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	struct nym_sha256 h;
	nym_sha256_init(&h);
	nym_sha256_update(&h, hs->h, NOISE_HASH_LEN);
	nym_sha256_update(&h, data, len);
	nym_sha256_final(&h, hs->h);
}

/* Noise's HKDF (§4.3): two or three outputs chained from a temporary key. Outputs may alias
 * the chaining key. */
static void hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm, size_t ikm_len,
		 uint8_t *out1, uint8_t *out2, uint8_t *out3)
{
	static const uint8_t one = 1, two = 2, three = 3;
	uint8_t temp[NOISE_HASH_LEN], t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN];
	uint8_t t3[NOISE_HASH_LEN];
	struct nym_hmac_sha256_key k;
	nym_hmac_sha256(temp, ck, NOISE_HASH_LEN, ikm, ikm_len);
	nym_hmac_sha256_key_init(&k, temp, sizeof(temp));
	nym_hmac_sha256_prepared(&k, &one, 1, NULL, 0, NULL, 0, t1);
	nym_hmac_sha256_prepared(&k, t1, sizeof(t1), &two, 1, NULL, 0, t2);
	if (out3) {
		nym_hmac_sha256_prepared(&k, t2, sizeof(t2), &three, 1, NULL, 0, t3);
		memcpy(out3, t3, NOISE_HASH_LEN);
	}
	memcpy(out1, t1, NOISE_HASH_LEN);
	memcpy(out2, t2, NOISE_HASH_LEN);
	nym_hmac_sha256_key_clear(&k);
	nym_memzero(temp, sizeof(temp));
	nym_memzero(t1, sizeof(t1));
	nym_memzero(t2, sizeof(t2));
	nym_memzero(t3, sizeof(t3));
}

static void mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t k[NOISE_KEY_LEN];
	hkdf(hs->ck, ikm, len, hs->ck, k, NULL);
	noise_cipher_set_key(&hs->cs, k);
	nym_memzero(k, sizeof(k));
}

static void mix_key_and_hash(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t th[NOISE_HASH_LEN], k[NOISE_KEY_LEN];
	hkdf(hs->ck, ikm, len, hs->ck, th, k);
	mix_hash(hs, th, sizeof(th));
	noise_cipher_set_key(&hs->cs, k);
	nym_memzero(th, sizeof(th));
	nym_memzero(k, sizeof(k));
}

static int mix_dh(struct noise_handshake *hs, const uint8_t priv[NOISE_DH_LEN],
		  const uint8_t pub[NOISE_DH_LEN])
{
	uint8_t shared[NOISE_DH_LEN];
	int r = nym_x25519(shared, priv, pub);
	if (r == 0)
		mix_key(hs, shared, sizeof(shared));
	nym_memzero(shared, sizeof(shared));
	return r;
}

static int encrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out, size_t *written)
{
	int r = noise_cipher_encrypt(&hs->cs, hs->h, NOISE_HASH_LEN, in, len, out,
				     len + NOISE_TAG_LEN, written);
	if (r == 0)
		mix_hash(hs, out, *written);
	return r;
}

static int decrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap, size_t *written)
{
	/* h is the associated data and must take in the ciphertext afterwards; hash the
	 * ciphertext first, since decryption may overwrite it. */
	struct nym_sha256 sh;
	uint8_t next_h[NOISE_HASH_LEN];
	nym_sha256_init(&sh);
	nym_sha256_update(&sh, hs->h, NOISE_HASH_LEN);
	nym_sha256_update(&sh, in, len);
	nym_sha256_final(&sh, next_h);
	int r = noise_cipher_decrypt(&hs->cs, hs->h, NOISE_HASH_LEN, in, len, out, cap, written);
	if (r == 0)
		memcpy(hs->h, next_h, NOISE_HASH_LEN);
	return r;
}

static int fail(struct noise_handshake *hs, int err)
{
	noise_handshake_clear(hs);
	return err;
}

int noise_handshake_init(struct noise_handshake *hs, enum noise_role role,
			 const struct nym_x25519_keypair *s, const uint8_t *rs,
			 const uint8_t psk[NOISE_PSK_LEN], const uint8_t *prologue,
			 size_t prologue_len, const struct nym_rng *rng)
{
	memset(hs, 0, sizeof(*hs));
	noise_cipher_init(&hs->cs);
	if (role == NOISE_INITIATOR && !rs)
		return fail(hs, -EINVAL);
	hs->role = role;
	hs->rng = rng;
	hs->s = *s;
	memcpy(hs->psk, psk, NOISE_PSK_LEN);
	memcpy(hs->h, NOISE_PROTOCOL_NAME, NOISE_HASH_LEN);
	memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
	mix_hash(hs, prologue, prologue_len);
	/* The pre-message "<- s": both sides hash the responder's static key. */
	if (role == NOISE_INITIATOR) {
		memcpy(hs->rs, rs, NOISE_DH_LEN);
		mix_hash(hs, hs->rs, NOISE_DH_LEN);
	} else {
		mix_hash(hs, hs->s.public_key, NOISE_DH_LEN);
	}
	return 0;
}

bool noise_handshake_my_turn(const struct noise_handshake *hs)
{
	if (hs->failed || hs->next > 2)
		return false;
	return (hs->next == 1) == (hs->role == NOISE_RESPONDER);
}

bool noise_handshake_done(const struct noise_handshake *hs)
{
	return !hs->failed && hs->next == 3;
}

/* "e" when writing: a fresh ephemeral, sent in clear; with a PSK it also feeds the key. */
static void write_e(struct noise_handshake *hs, uint8_t *out)
{
	nym_rng_fill(hs->rng, hs->e.secret, NOISE_DH_LEN);
	nym_x25519_public(hs->e.public_key, hs->e.secret);
	memcpy(out, hs->e.public_key, NOISE_DH_LEN);
	mix_hash(hs, hs->e.public_key, NOISE_DH_LEN);
	mix_key(hs, hs->e.public_key, NOISE_DH_LEN);
}

static void read_e(struct noise_handshake *hs, const uint8_t *in)
{
	memcpy(hs->re, in, NOISE_DH_LEN);
	mix_hash(hs, hs->re, NOISE_DH_LEN);
	mix_key(hs, hs->re, NOISE_DH_LEN);
}

int noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			  uint8_t *out, size_t cap, size_t *written)
{
	if (!noise_handshake_my_turn(hs))
		return -EPROTO;
	size_t head = hs->next == 2 ? NOISE_DH_LEN + NOISE_TAG_LEN : NOISE_DH_LEN;
	if (payload_len > NOISE_MAX_MESSAGE_LEN - head - NOISE_TAG_LEN)
		return -EMSGSIZE;
	if (cap < head + payload_len + NOISE_TAG_LEN)
		return -ENOSPC;
	size_t n;
	int r;
	switch (hs->next) {
	case 0: /* -> e, es */
		write_e(hs, out);
		r = mix_dh(hs, hs->e.secret, hs->rs);
		break;
	case 1: /* <- e, ee */
		write_e(hs, out);
		r = mix_dh(hs, hs->e.secret, hs->re);
		break;
	default: /* -> s, se, psk */
		r = encrypt_and_hash(hs, hs->s.public_key, NOISE_DH_LEN, out, &n);
		if (r == 0)
			r = mix_dh(hs, hs->s.secret, hs->re);
		if (r == 0)
			mix_key_and_hash(hs, hs->psk, NOISE_PSK_LEN);
		break;
	}
	if (r == 0)
		r = encrypt_and_hash(hs, payload, payload_len, out + head, &n);
	if (r)
		return fail(hs, r);
	hs->next++;
	*written = head + n;
	return 0;
}

int noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			 uint8_t *payload_out, size_t cap, size_t *payload_len)
{
	if (hs->failed || hs->next > 2 || noise_handshake_my_turn(hs))
		return -EPROTO;
	size_t head = hs->next == 2 ? NOISE_DH_LEN + NOISE_TAG_LEN : NOISE_DH_LEN;
	if (len < head + NOISE_TAG_LEN || len > NOISE_MAX_MESSAGE_LEN)
		return fail(hs, -EMSGSIZE);
	if (cap < len - head - NOISE_TAG_LEN)
		return -ENOSPC;
	size_t n;
	int r;
	switch (hs->next) {
	case 0: /* -> e, es */
		read_e(hs, msg);
		r = mix_dh(hs, hs->s.secret, hs->re);
		break;
	case 1: /* <- e, ee */
		read_e(hs, msg);
		r = mix_dh(hs, hs->e.secret, hs->re);
		break;
	default: /* -> s, se, psk */
		r = decrypt_and_hash(hs, msg, NOISE_DH_LEN + NOISE_TAG_LEN, hs->rs, NOISE_DH_LEN, &n);
		if (r == 0)
			r = mix_dh(hs, hs->e.secret, hs->rs);
		if (r == 0)
			mix_key_and_hash(hs, hs->psk, NOISE_PSK_LEN);
		break;
	}
	if (r == 0)
		r = decrypt_and_hash(hs, msg + head, len - head, payload_out, cap, payload_len);
	if (r)
		return fail(hs, r);
	hs->next++;
	return 0;
}

void noise_handshake_get_hash(const struct noise_handshake *hs, uint8_t out[NOISE_HASH_LEN])
{
	memcpy(out, hs->h, NOISE_HASH_LEN);
}

int noise_handshake_remote_static(const struct noise_handshake *hs, uint8_t out[NOISE_DH_LEN])
{
	if (hs->failed || (hs->role == NOISE_RESPONDER && hs->next < 3))
		return -EAGAIN;
	memcpy(out, hs->rs, NOISE_DH_LEN);
	return 0;
}

int noise_handshake_split(struct noise_handshake *hs, struct noise_transport *t)
{
	uint8_t k1[NOISE_KEY_LEN], k2[NOISE_KEY_LEN];
	if (!noise_handshake_done(hs))
		return -EPROTO;
	hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	noise_cipher_init(&t->send);
	noise_cipher_init(&t->recv);
	/* The first key protects initiator-to-responder traffic. */
	noise_cipher_set_key(&t->send, hs->role == NOISE_INITIATOR ? k1 : k2);
	noise_cipher_set_key(&t->recv, hs->role == NOISE_INITIATOR ? k2 : k1);
	nym_memzero(k1, sizeof(k1));
	nym_memzero(k2, sizeof(k2));
	noise_handshake_clear(hs);
	return 0;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	noise_cipher_clear(&hs->cs);
	nym_memzero(hs, sizeof(*hs));
	noise_cipher_init(&hs->cs);
	hs->failed = true;
}
