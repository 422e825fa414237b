#include "sphinx/sphinx_sender.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "crypto/x25519_batch.h"

/* Scalars below are 32-byte little-endian integers modulo the group order l. */
static uint8_t two_254_mod_l[32]; /* 2^254 mod l */
static uint8_t inv8[32];          /* 8^-1 mod l */
static pthread_once_t constants_once = PTHREAD_ONCE_INIT;

static void constants_init(void)
{
	uint8_t wide[64] = { 0 };
	wide[31] = 0x40; /* bit 254 */
	crypto_core_ed25519_scalar_reduce(two_254_mod_l, wide);
	uint8_t eight[32] = { 8 };
	crypto_core_ed25519_scalar_invert(inv8, eight);
}

/* clamp(k) mod l, the value X25519 actually multiplies by (modulo the cofactor). */
static void clamped_mod_l(uint8_t out[32], const uint8_t k[32])
{
	uint8_t wide[64] = { 0 };
	memcpy(wide, k, 32);
	wide[0] &= 248;
	wide[31] &= 127;
	wide[31] |= 64;
	crypto_core_ed25519_scalar_reduce(out, wide);
	nym_memzero(wide, sizeof(wide));
}

/* Finds s = 2^254 + 8k with k < 2^251 and s = t (mod l): such an s is its own clamping, and
 * s*P = t*P for every point of the curve (s kills the small-order part as clamping does).
 * Returns 0 or -ERANGE when neither t nor -t has such a representative. */
static int clamped_representative(uint8_t s[32], const uint8_t t[32])
{
	uint8_t cand[32], k[32];
	int rc = -ERANGE;
	memcpy(cand, t, 32);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1)
			crypto_core_ed25519_scalar_negate(cand, t);
		crypto_core_ed25519_scalar_sub(k, cand, two_254_mod_l);
		crypto_core_ed25519_scalar_mul(k, k, inv8);
		if (k[31] & 0xf8) /* k >= 2^251 */
			continue;
		/* s = 8k | 2^254 */
		uint8_t carry = 0;
		for (int i = 0; i < 32; i++) {
			s[i] = (uint8_t)(k[i] << 3 | carry);
			carry = k[i] >> 5;
		}
		s[31] |= 0x40;
		rc = 0;
		break;
	}
	nym_memzero(cand, sizeof(cand));
	nym_memzero(k, sizeof(k));
	return rc;
}

int sphinx_sender_keys(uint8_t alpha0[32], struct sphinx_hop_keys *keys,
		       const uint8_t (*route_keys)[32], size_t hops, const uint8_t x[32])
{
	pthread_once(&constants_once, constants_init);
	uint8_t acc[32], factor[32], s[32], shared[32];
	int rc = 0;

	nym_x25519_public(alpha0, x);
	clamped_mod_l(acc, x);
	for (size_t i = 0; i < hops; i++) {
		if (clamped_representative(s, acc) != 0) {
			rc = sphinx_sender_keys_chain(alpha0, keys, route_keys, hops, x);
			goto out;
		}
		if (nym_x25519(shared, s, route_keys[i]) != 0) {
			rc = -EINVAL;
			goto out;
		}
		sphinx_keys_expand(&keys[i], shared);
		clamped_mod_l(factor, keys[i].blinding);
		crypto_core_ed25519_scalar_mul(acc, acc, factor);
	}
out:
	nym_memzero(acc, sizeof(acc));
	nym_memzero(factor, sizeof(factor));
	nym_memzero(s, sizeof(s));
	nym_memzero(shared, sizeof(shared));
	return rc;
}

/* Packets per group of curve operations: two groups of eight lanes. */
#define BATCH 16

static void keys_batch_group(uint8_t (*alpha0)[32], struct sphinx_hop_keys (*keys)[SPHINX_MAX_HOPS],
			     const uint8_t (*const *route_keys)[32], const size_t *hops, const uint8_t (*x)[32],
			     int *rc, size_t n)
{
	uint8_t acc[BATCH][32], scalar[BATCH][32], point[BATCH][32], shared[BATCH][32], factor[32];
	size_t index[BATCH], max_hops = 0;
	int xrc[BATCH];
	static const uint8_t base[32] = { 9 };

	for (size_t k = 0; k < n; k++) {
		rc[k] = hops[k] < 1 || hops[k] > SPHINX_MAX_HOPS ? -EINVAL : 0;
		memcpy(scalar[k], x[k], 32);
		memcpy(point[k], base, 32);
		clamped_mod_l(acc[k], x[k]);
		if (!rc[k] && hops[k] > max_hops)
			max_hops = hops[k];
	}
	nym_x25519_batch(alpha0, (const uint8_t(*)[32])scalar, (const uint8_t(*)[32])point, xrc, n);
	for (size_t i = 0; i < max_hops; i++) {
		size_t m = 0;
		for (size_t k = 0; k < n; k++) {
			if (rc[k] || i >= hops[k])
				continue;
			if (clamped_representative(scalar[m], acc[k]) != 0) {
				/* 2^-120: this packet takes the literal chain on its own. */
				rc[k] = sphinx_sender_keys_chain(alpha0[k], keys[k], route_keys[k], hops[k], x[k]);
				if (!rc[k])
					rc[k] = 1; /* done; reset below */
				continue;
			}
			memcpy(point[m], route_keys[k][i], 32);
			index[m++] = k;
		}
		nym_x25519_batch(shared, (const uint8_t(*)[32])scalar, (const uint8_t(*)[32])point, xrc, m);
		for (size_t j = 0; j < m; j++) {
			size_t k = index[j];
			if (xrc[j]) {
				rc[k] = -EINVAL;
				continue;
			}
			sphinx_keys_expand(&keys[k][i], shared[j]);
			clamped_mod_l(factor, keys[k][i].blinding);
			crypto_core_ed25519_scalar_mul(acc[k], acc[k], factor);
		}
	}
	for (size_t k = 0; k < n; k++)
		if (rc[k] == 1)
			rc[k] = 0;
	nym_memzero(acc, sizeof(acc));
	nym_memzero(scalar, sizeof(scalar));
	nym_memzero(shared, sizeof(shared));
	nym_memzero(factor, sizeof(factor));
}

void sphinx_sender_keys_batch(uint8_t (*alpha0)[32], struct sphinx_hop_keys (*keys)[SPHINX_MAX_HOPS],
			      const uint8_t (*const *route_keys)[32], const size_t *hops, const uint8_t (*x)[32],
			      int *rc, size_t n)
{
	pthread_once(&constants_once, constants_init);
	for (size_t first = 0; first < n; first += BATCH) {
		size_t m = n - first < BATCH ? n - first : BATCH;
		keys_batch_group(alpha0 + first, keys + first, route_keys + first, hops + first, x + first,
				 rc + first, m);
	}
}

int sphinx_sender_keys_chain(uint8_t alpha0[32], struct sphinx_hop_keys *keys,
			     const uint8_t (*route_keys)[32], size_t hops, const uint8_t x[32])
{
	uint8_t shared[32];
	int rc = 0;
	nym_x25519_public(alpha0, x);
	for (size_t i = 0; i < hops; i++) {
		if (nym_x25519(shared, x, route_keys[i]) != 0) {
			rc = -EINVAL;
			break;
		}
		for (size_t j = 0; j < i && rc == 0; j++)
			if (nym_x25519(shared, keys[j].blinding, shared) != 0)
				rc = -EINVAL;
		if (rc)
			break;
		sphinx_keys_expand(&keys[i], shared);
	}
	nym_memzero(shared, sizeof(shared));
	return rc;
}
