#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "../support/x25519_cases.h"
#include "crypto/x25519_batch.h"
#include "util/hex.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(x25519_batch, .init = setup);

/* Every batch size around the lane count, with low-order and non-canonical points mixed in:
 * each result must be the bytes (and the error) nym_x25519 gives for that pair alone. On a
 * CPU without IFMA this checks the one-at-a-time path; test_x25519_model runs the vectorised
 * ladder there. */
Test(x25519_batch, matches_one_at_a_time)
{
	x25519_check_batch_sizes(nym_x25519_batch, 20);
}

static void skip_without_ifma(void)
{
	if (!nym_x25519_batch_vectorised())
		cr_skip_test("this CPU has no AVX-512 IFMA; test_x25519_model runs the same ladder");
}

Test(x25519_batch, edge_points_match_libsodium)
{
	skip_without_ifma();
	x25519_check_edges(nym_x25519_batch_x8);
}

Test(x25519_batch, rfc7748_iterated_once)
{
	skip_without_ifma();
	x25519_check_iterated(nym_x25519_batch_x8, 1);
}

Test(x25519_batch, rfc7748_iterated_1000_times)
{
	skip_without_ifma();
	x25519_check_iterated(nym_x25519_batch_x8, 1000);
}

Test(x25519_batch, works_in_place)
{
	uint8_t s[8][32], p[8][32], copy[8][32], want[32];
	int rc[8];
	randombytes_buf(s, sizeof(s));
	randombytes_buf(p, sizeof(p));
	memcpy(copy, p, sizeof(p));
	nym_x25519_batch(p, (const uint8_t(*)[32])s, (const uint8_t(*)[32])p, rc, 8);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(rc[i], 0);
		cr_assert_eq(nym_x25519(want, s[i], copy[i]), 0);
		cr_assert(memcmp(p[i], want, 32) == 0, "lane %d", i);
	}
}

/* RFC 7748 section 5.2, first vector, in every lane of the vectorised ladder. */
Test(x25519_batch, rfc7748_vector_in_every_lane)
{
	skip_without_ifma();
	uint8_t k[32], u[32], want[32], s[8][32], p[8][32], out[8][32];
	cr_assert_eq(nym_hex_decode_exact(k, 32, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), 0);
	cr_assert_eq(nym_hex_decode_exact(u, 32, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), 0);
	cr_assert_eq(nym_hex_decode_exact(want, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"), 0);
	for (int i = 0; i < 8; i++) {
		memcpy(s[i], k, 32);
		memcpy(p[i], u, 32);
	}
	nym_x25519_batch_x8(out, (const uint8_t(*)[32])s, (const uint8_t(*)[32])p);
	for (int i = 0; i < 8; i++)
		cr_assert(memcmp(out[i], want, 32) == 0, "lane %d", i);
}
