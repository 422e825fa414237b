#include "crypto/x25519_batch.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "crypto/secret.h"

/* Tests compile this file a second time with NYM_X25519_LANE_MODEL, after including a portable
 * lane-by-lane model of the intrinsics below (tests/support/ifma_model.h): the same ladder then
 * runs, and is checked, on CPUs without AVX-512 IFMA. */
#ifdef NYM_X25519_LANE_MODEL
#define IFMA
#else
#include <immintrin.h>
#define IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))
#endif

/* Field elements mod p = 2^255 - 19, eight at a time: limb i of lane j is bits 52i..52i+51 of
 * element j. Multiplication inputs must have every limb below 2^52 (IFMA reads 52 bits);
 * carry() brings sums and differences back there, leaving limb 4 below 2^47 + 1, so a value
 * is below 2^255 + 2^208 and is reduced fully only when stored. */
struct fe8 {
	__m512i v[5];
};

#define M52 ((1ull << 52) - 1)
#define M47 ((1ull << 47) - 1)

IFMA static inline void carry_pass(__m512i *c)
{
	const __m512i m52 = _mm512_set1_epi64((long long)M52);
	for (int i = 0; i < 4; i++) {
		c[i + 1] = _mm512_add_epi64(c[i + 1], _mm512_srli_epi64(c[i], 52));
		c[i] = _mm512_and_si512(c[i], m52);
	}
}

IFMA static inline void carry(struct fe8 *a)
{
	carry_pass(a->v);
	/* Bits from 255 up wrap around times 19 (2^255 = 19 mod p). */
	__m512i t = _mm512_srli_epi64(a->v[4], 47);
	a->v[4] = _mm512_and_si512(a->v[4], _mm512_set1_epi64((long long)M47));
	__m512i t19 = _mm512_add_epi64(_mm512_slli_epi64(t, 4), _mm512_add_epi64(_mm512_slli_epi64(t, 1), t));
	a->v[0] = _mm512_add_epi64(a->v[0], t19);
	carry_pass(a->v);
}

IFMA static inline void fe_add(struct fe8 *r, const struct fe8 *a, const struct fe8 *b)
{
	for (int i = 0; i < 5; i++)
		r->v[i] = _mm512_add_epi64(a->v[i], b->v[i]);
	carry(r);
}

/* a - b + 2p, limb by limb: no limb goes negative for carried inputs. */
IFMA static inline void fe_sub(struct fe8 *r, const struct fe8 *a, const struct fe8 *b)
{
	static const long long two_p[5] = { (1ll << 53) - 38, (1ll << 53) - 2, (1ll << 53) - 2, (1ll << 53) - 2,
					    (1ll << 48) - 2 };
	for (int i = 0; i < 5; i++)
		r->v[i] = _mm512_sub_epi64(_mm512_add_epi64(a->v[i], _mm512_set1_epi64(two_p[i])), b->v[i]);
	carry(r);
}

IFMA static inline void fe_mul(struct fe8 *r, const struct fe8 *a, const struct fe8 *b)
{
	/* Schoolbook into ten 52-bit columns: low halves of a_i b_j to column i+j, high to i+j+1. */
	__m512i c[10];
	for (int i = 0; i < 10; i++)
		c[i] = _mm512_setzero_si512();
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++) {
			c[i + j] = _mm512_madd52lo_epu64(c[i + j], a->v[i], b->v[j]);
			c[i + j + 1] = _mm512_madd52hi_epu64(c[i + j + 1], a->v[i], b->v[j]);
		}
	/* Columns 5..9 to 52 bits, their overflow into a tenth; then fold: 2^260 = 608 and
	 * 2^520 = 608^2 mod p. Products stay below 2^63. */
	const __m512i m52 = _mm512_set1_epi64((long long)M52);
	for (int i = 5; i < 9; i++) {
		c[i + 1] = _mm512_add_epi64(c[i + 1], _mm512_srli_epi64(c[i], 52));
		c[i] = _mm512_and_si512(c[i], m52);
	}
	__m512i top = _mm512_srli_epi64(c[9], 52);
	c[9] = _mm512_and_si512(c[9], m52);
	const __m512i k608 = _mm512_set1_epi64(608);
	for (int i = 0; i < 5; i++)
		r->v[i] = _mm512_add_epi64(c[i], _mm512_mullo_epi64(c[i + 5], k608));
	r->v[0] = _mm512_add_epi64(r->v[0], _mm512_mullo_epi64(top, _mm512_set1_epi64(608 * 608)));
	carry(r);
}

IFMA static inline void fe_sq_n(struct fe8 *r, const struct fe8 *a, int n)
{
	fe_mul(r, a, a);
	for (int i = 1; i < n; i++)
		fe_mul(r, r, r);
}

/* z^(p-2), the usual chain of 254 squarings and 11 multiplications. */
IFMA static void fe_invert(struct fe8 *out, const struct fe8 *z)
{
	struct fe8 z2, z9, z11, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0, t;
	fe_sq_n(&z2, z, 1);
	fe_sq_n(&t, &z2, 2);
	fe_mul(&z9, &t, z);
	fe_mul(&z11, &z9, &z2);
	fe_sq_n(&t, &z11, 1);
	fe_mul(&z2_5_0, &t, &z9);
	fe_sq_n(&t, &z2_5_0, 5);
	fe_mul(&z2_10_0, &t, &z2_5_0);
	fe_sq_n(&t, &z2_10_0, 10);
	fe_mul(&z2_20_0, &t, &z2_10_0);
	fe_sq_n(&t, &z2_20_0, 20);
	fe_mul(&t, &t, &z2_20_0);
	fe_sq_n(&t, &t, 10);
	fe_mul(&z2_50_0, &t, &z2_10_0);
	fe_sq_n(&t, &z2_50_0, 50);
	fe_mul(&z2_100_0, &t, &z2_50_0);
	fe_sq_n(&t, &z2_100_0, 100);
	fe_mul(&t, &t, &z2_100_0);
	fe_sq_n(&t, &t, 50);
	fe_mul(&t, &t, &z2_50_0);
	fe_sq_n(&t, &t, 5);
	fe_mul(out, &t, &z11);
	nym_memzero(&z2, sizeof(z2));
	nym_memzero(&z9, sizeof(z9));
	nym_memzero(&z11, sizeof(z11));
	nym_memzero(&z2_5_0, sizeof(z2_5_0));
	nym_memzero(&z2_10_0, sizeof(z2_10_0));
	nym_memzero(&z2_20_0, sizeof(z2_20_0));
	nym_memzero(&z2_50_0, sizeof(z2_50_0));
	nym_memzero(&z2_100_0, sizeof(z2_100_0));
	nym_memzero(&t, sizeof(t));
}

/* RFC 7748 decoding: little-endian, top bit ignored; values up to 2^255 - 1 are taken as
 * they are (non-canonical ones included), like libsodium. */
IFMA static void fe_load(struct fe8 *r, const uint8_t u[NYM_X25519_LANES][NYM_X25519_LEN])
{
	uint64_t limb[5][NYM_X25519_LANES];
	for (int k = 0; k < NYM_X25519_LANES; k++) {
		uint64_t w[4];
		memcpy(w, u[k], sizeof(w));
		w[3] &= 0x7fffffffffffffffull;
		limb[0][k] = w[0] & M52;
		limb[1][k] = ((w[0] >> 52) | (w[1] << 12)) & M52;
		limb[2][k] = ((w[1] >> 40) | (w[2] << 24)) & M52;
		limb[3][k] = ((w[2] >> 28) | (w[3] << 36)) & M52;
		limb[4][k] = w[3] >> 16;
	}
	for (int i = 0; i < 5; i++)
		r->v[i] = _mm512_loadu_si512(limb[i]);
}

/* Fully reduces each lane (its value is below 2^255 + 2^208 < 2p) and encodes it. */
IFMA static void fe_store(uint8_t out[NYM_X25519_LANES][NYM_X25519_LEN], const struct fe8 *a)
{
	uint64_t limb[5][NYM_X25519_LANES];
	for (int i = 0; i < 5; i++)
		_mm512_storeu_si512(limb[i], a->v[i]);
	for (int k = 0; k < NYM_X25519_LANES; k++) {
		uint64_t c[5] = { limb[0][k], limb[1][k], limb[2][k], limb[3][k], limb[4][k] };
		/* q = 1 exactly when the value is at least p, i.e. value + 19 reaches 2^255. */
		uint64_t t = c[0] + 19;
		for (int i = 1; i < 5; i++)
			t = c[i] + (t >> 52);
		uint64_t q = t >> 47;
		c[0] += 19 * q;
		for (int i = 0; i < 4; i++) {
			c[i + 1] += c[i] >> 52;
			c[i] &= M52;
		}
		c[4] &= M47;
		uint64_t w[4] = { c[0] | c[1] << 52, c[1] >> 12 | c[2] << 40, c[2] >> 24 | c[3] << 28,
				  c[3] >> 36 | c[4] << 16 };
		memcpy(out[k], w, sizeof(w));
		nym_memzero(c, sizeof(c));
		nym_memzero(w, sizeof(w));
	}
	nym_memzero(limb, sizeof(limb));
}

/* Swaps a and b in the lanes whose bit in m is set; timing does not depend on m. */
IFMA static inline void fe_cswap(__mmask8 m, struct fe8 *a, struct fe8 *b)
{
	for (int i = 0; i < 5; i++) {
		__m512i x = a->v[i], y = b->v[i];
		a->v[i] = _mm512_mask_blend_epi64(m, x, y);
		b->v[i] = _mm512_mask_blend_epi64(m, y, x);
	}
}

IFMA void nym_x25519_batch_x8(uint8_t out[NYM_X25519_LANES][NYM_X25519_LEN],
			const uint8_t scalar[NYM_X25519_LANES][NYM_X25519_LEN],
			const uint8_t point[NYM_X25519_LANES][NYM_X25519_LEN])
{
	uint8_t k[NYM_X25519_LANES][NYM_X25519_LEN];
	for (int j = 0; j < NYM_X25519_LANES; j++) {
		memcpy(k[j], scalar[j], NYM_X25519_LEN);
		k[j][0] &= 248;
		k[j][31] &= 127;
		k[j][31] |= 64;
	}
	struct fe8 x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb, t, a24;
	fe_load(&x1, point);
	carry(&x1);
	for (int i = 0; i < 5; i++)
		x2.v[i] = z2.v[i] = z3.v[i] = a24.v[i] = _mm512_setzero_si512();
	x2.v[0] = z3.v[0] = _mm512_set1_epi64(1);
	a24.v[0] = _mm512_set1_epi64(121665);
	x3 = x1;
	__mmask8 swap = 0;
	/* The Montgomery ladder of RFC 7748 section 5, one lane per pair. */
	for (int pos = 254; pos >= 0; pos--) {
		__mmask8 bit = 0;
		for (int j = 0; j < NYM_X25519_LANES; j++)
			bit |= (__mmask8)(((k[j][pos >> 3] >> (pos & 7)) & 1) << j);
		swap ^= bit;
		fe_cswap(swap, &x2, &x3);
		fe_cswap(swap, &z2, &z3);
		swap = bit;
		fe_add(&a, &x2, &z2);
		fe_mul(&aa, &a, &a);
		fe_sub(&b, &x2, &z2);
		fe_mul(&bb, &b, &b);
		fe_sub(&e, &aa, &bb);
		fe_add(&c, &x3, &z3);
		fe_sub(&d, &x3, &z3);
		fe_mul(&da, &d, &a);
		fe_mul(&cb, &c, &b);
		fe_add(&t, &da, &cb);
		fe_mul(&x3, &t, &t);
		fe_sub(&t, &da, &cb);
		fe_mul(&t, &t, &t);
		fe_mul(&z3, &x1, &t);
		fe_mul(&x2, &aa, &bb);
		fe_mul(&t, &a24, &e);
		fe_add(&t, &aa, &t);
		fe_mul(&z2, &e, &t);
	}
	fe_cswap(swap, &x2, &x3);
	fe_cswap(swap, &z2, &z3);
	fe_invert(&z2, &z2);
	fe_mul(&x2, &x2, &z2);
	fe_store(out, &x2);
	nym_memzero(k, sizeof(k));
	struct fe8 *secrets[] = { &x1, &x2, &z2, &x3, &z3, &a, &aa, &b, &bb, &e, &c, &d, &da, &cb, &t };
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		nym_memzero(secrets[i], sizeof(*secrets[i]));
}

bool nym_x25519_batch_vectorised(void)
{
#ifdef NYM_X25519_LANE_MODEL
	return true;
#else
	static _Atomic int state; /* 0 unknown, 1 yes, 2 no; every thread computes the same answer */
	int s = atomic_load_explicit(&state, memory_order_relaxed);
	if (!s) {
		__builtin_cpu_init();
		s = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
				    __builtin_cpu_supports("avx512ifma")
			    ? 1
			    : 2;
		atomic_store_explicit(&state, s, memory_order_relaxed);
	}
	return s == 1;
#endif
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* Below this many pairs a group of eight lanes costs more than one ladder per pair. */
#define LANES_WORTH_IT 3

void nym_x25519_batch(uint8_t (*out)[NYM_X25519_LEN], const uint8_t (*scalar)[NYM_X25519_LEN],
		      const uint8_t (*point)[NYM_X25519_LEN], int *rc, size_t n)
{
	size_t i = 0;
	if (nym_x25519_batch_vectorised()) {
		while (n - i >= LANES_WORTH_IT) {
			size_t m = n - i < NYM_X25519_LANES ? n - i : NYM_X25519_LANES;
			uint8_t s[NYM_X25519_LANES][NYM_X25519_LEN], p[NYM_X25519_LANES][NYM_X25519_LEN];
			uint8_t r[NYM_X25519_LANES][NYM_X25519_LEN];
			/* Unused lanes compute on copies of the first pair. */
			for (size_t j = 0; j < NYM_X25519_LANES; j++) {
				memcpy(s[j], scalar[i + (j < m ? j : 0)], NYM_X25519_LEN);
				memcpy(p[j], point[i + (j < m ? j : 0)], NYM_X25519_LEN);
			}
			nym_x25519_batch_x8(r, s, p);
			for (size_t j = 0; j < m; j++) {
				memcpy(out[i + j], r[j], NYM_X25519_LEN);
				rc[i + j] = all_zero(r[j], NYM_X25519_LEN) ? -EINVAL : 0;
			}
			nym_memzero(s, sizeof(s));
			nym_memzero(r, sizeof(r));
			i += m;
		}
	}
	for (; i < n; i++)
		rc[i] = nym_x25519(out[i], scalar[i], point[i]);
}
