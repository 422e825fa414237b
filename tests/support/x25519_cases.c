#include "x25519_cases.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

typedef uint8_t point_t[NYM_X25519_LEN];

static void hex32(point_t out, const char *hex)
{
	cr_assert_eq(nym_hex_decode_exact(out, NYM_X25519_LEN, hex), 0, "bad constant %s", hex);
}

/* p + delta for delta in 0..18 (2^255 - 19 + delta stays below 2^255), little-endian. */
static void p_plus(point_t out, unsigned delta)
{
	memset(out, 0xff, NYM_X25519_LEN);
	out[0] = (uint8_t)(0xed + delta);
	out[31] = 0x7f;
}

static void power_of_two(point_t out, unsigned bit)
{
	memset(out, 0, NYM_X25519_LEN);
	out[bit / 8] = (uint8_t)(1u << (bit % 8));
}

/* 2^bits - 1 */
static void low_ones(point_t out, unsigned bits)
{
	memset(out, 0, NYM_X25519_LEN);
	for (unsigned i = 0; i < bits; i++)
		out[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The list starts with the low-order points, LOW_ORDER of them; after the first `base`
 * entries the same values come again with bit 255 set. */
enum { MAX_EDGES = 64, LOW_ORDER = 7 };

static size_t edge_points(point_t *u, size_t *base_out)
{
	size_t n = 0;
	memset(u[n++], 0, NYM_X25519_LEN);     /* 0: order 2 (and the neutral point's encoding) */
	power_of_two(u[n++], 0);                /* 1: order 4 */
	p_plus(u[n], 0);                        /* p - 1, order 4 on the twist */
	u[n++][0] = 0xec;
	hex32(u[n++], "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"); /* order 8 */
	hex32(u[n++], "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"); /* order 8 */
	p_plus(u[n++], 0);  /* p = 0 */
	p_plus(u[n++], 1);  /* p + 1 = 1 */
	p_plus(u[n++], 2);  /* p + 2 = 2 */
	p_plus(u[n++], 9);  /* p + 9: the base point, non-canonically */
	p_plus(u[n++], 18); /* 2^255 - 1, the largest value the top-bit mask leaves */
	power_of_two(u[n], 0); /* 2, 9 */
	u[n++][0] = 2;
	power_of_two(u[n], 0);
	u[n++][0] = 9;
	low_ones(u[n++], 52); /* limb 0 full */
	power_of_two(u[n++], 52); /* first bit of limb 1 */
	low_ones(u[n++], 104);
	power_of_two(u[n++], 208); /* first bit of limb 4 */
	power_of_two(u[n++], 254);
	low_ones(u[n++], 255 - 1); /* 2^254 - 1 */
	randombytes_buf(u[n++], NYM_X25519_LEN);
	randombytes_buf(u[n++], NYM_X25519_LEN);
	/* Every one of them again with bit 255 set, which X25519 ignores. */
	size_t base = n;
	for (size_t i = 0; i < base; i++) {
		memcpy(u[n], u[i], NYM_X25519_LEN);
		u[n++][31] |= 0x80;
	}
	cr_assert_leq(n, MAX_EDGES);
	*base_out = base;
	return n;
}

static void expected(point_t out, const point_t scalar, const point_t u)
{
	if (crypto_scalarmult(out, scalar, u) != 0)
		memset(out, 0, NYM_X25519_LEN);
}

static void fmt_hex(char buf[2 * NYM_X25519_LEN + 1], const point_t v)
{
	sodium_bin2hex(buf, 2 * NYM_X25519_LEN + 1, v, NYM_X25519_LEN);
}

static void check_lane(size_t lane, const point_t scalar, const point_t u, const point_t got)
{
	point_t want;
	expected(want, scalar, u);
	if (memcmp(got, want, NYM_X25519_LEN) == 0)
		return;
	char uh[65], gh[65], wh[65];
	fmt_hex(uh, u);
	fmt_hex(gh, got);
	fmt_hex(wh, want);
	cr_assert_fail("lane %zu, u=%s: got %s, want %s", lane, uh, gh, wh);
}

void x25519_check_edges(x25519_x8_fn *x8)
{
	point_t u[MAX_EDGES], scalars[4], s[NYM_X25519_LANES], p[NYM_X25519_LANES],
		out[NYM_X25519_LANES];
	size_t base, n = edge_points(u, &base);
	/* The list is what it claims: libsodium refuses exactly the low-order points. */
	for (size_t i = 0; i < n; i++) {
		point_t r, one = { 1 };
		bool low = i % base < LOW_ORDER;
		cr_assert_eq(crypto_scalarmult(r, one, u[i]) != 0, low, "edge point %zu", i);
	}
	memset(scalars[0], 0, NYM_X25519_LEN);    /* clamps to 2^254 */
	memset(scalars[1], 0xff, NYM_X25519_LEN); /* clamps to 2^255 - 8 */
	randombytes_buf(scalars[2], NYM_X25519_LEN);
	randombytes_buf(scalars[3], NYM_X25519_LEN);
	/* Every point meets every scalar, in two different lanes. */
	for (size_t sc = 0; sc < 4; sc++) {
		for (size_t shift = 0; shift <= 3; shift += 3) {
			for (size_t start = 0; start < n; start += NYM_X25519_LANES) {
				for (size_t j = 0; j < NYM_X25519_LANES; j++) {
					memcpy(s[j], scalars[(sc + j) % 4], NYM_X25519_LEN);
					memcpy(p[j], u[(start + j + shift) % n], NYM_X25519_LEN);
				}
				x8(out, (const point_t *)s, (const point_t *)p);
				for (size_t j = 0; j < NYM_X25519_LANES; j++)
					check_lane(j, s[j], p[j], out[j]);
			}
		}
	}
}

void x25519_check_batch_sizes(x25519_batch_fn *batch, int rounds)
{
	enum { MAX = 21 };
	point_t edges[MAX_EDGES], s[MAX], p[MAX], out[MAX], want;
	int rc[MAX];
	size_t base, n_edges = edge_points(edges, &base);
	for (size_t n = 1; n <= MAX; n++) {
		for (int round = 0; round < rounds; round++) {
			randombytes_buf(s, sizeof(s));
			randombytes_buf(p, sizeof(p));
			memcpy(p[(n + (size_t)round) % n], edges[(n * 7 + (size_t)round) % n_edges],
			       NYM_X25519_LEN);
			batch(out, (const point_t *)s, (const point_t *)p, rc, n);
			for (size_t i = 0; i < n; i++) {
				int want_rc = nym_x25519(want, s[i], p[i]);
				cr_assert_eq(rc[i], want_rc, "n=%zu i=%zu", n, i);
				if (want_rc == 0)
					cr_assert(memcmp(out[i], want, NYM_X25519_LEN) == 0,
						  "n=%zu i=%zu differs", n, i);
			}
		}
	}
}

void x25519_check_iterated(x25519_x8_fn *x8, unsigned iterations)
{
	enum { LANES = NYM_X25519_LANES };
	/* chain[i] is k after i iterations; u after i iterations is chain[i - 1] (9 at 0). */
	size_t len = iterations + LANES;
	point_t *chain = calloc(len + 1, sizeof(point_t));
	cr_assert_not_null(chain);
	point_t nine = { 9 }, k[LANES], u[LANES], out[LANES];
	memcpy(chain[0], nine, NYM_X25519_LEN);
	for (size_t i = 1; i <= len; i++)
		cr_assert_eq(crypto_scalarmult(chain[i], chain[i - 1], i >= 2 ? chain[i - 2] : nine),
			     0);
	for (size_t j = 0; j < LANES; j++) {
		memcpy(k[j], chain[j], NYM_X25519_LEN);
		memcpy(u[j], j ? chain[j - 1] : nine, NYM_X25519_LEN);
	}
	for (unsigned it = 0; it < iterations; it++) {
		x8(out, (const point_t *)k, (const point_t *)u);
		memcpy(u, k, sizeof(u));
		memcpy(k, out, sizeof(k));
	}
	point_t rfc;
	if (iterations == 1)
		hex32(rfc, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	else if (iterations == 1000)
		hex32(rfc, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	else
		memcpy(rfc, chain[iterations], NYM_X25519_LEN);
	cr_assert(memcmp(k[0], rfc, NYM_X25519_LEN) == 0, "lane 0 after %u iterations", iterations);
	for (size_t j = 0; j < LANES; j++)
		cr_assert(memcmp(k[j], chain[iterations + j], NYM_X25519_LEN) == 0,
			  "lane %zu after %u iterations", j, iterations);
	free(chain);
}
