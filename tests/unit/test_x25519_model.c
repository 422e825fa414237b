/* The eight-lane X25519 ladder on every CPU: lib/crypto/x25519_batch.c compiled here a second
 * time against tests/support/ifma_model.h, a lane-by-lane C model of the AVX-512 intrinsics it
 * uses, under names of its own so it cannot be confused with the library's copy. The ladder's
 * source is shared, not copied; only the intrinsics underneath are swapped. */
#include "../support/ifma_model.h"

#define nym_x25519_batch_x8 model_x25519_x8
#define nym_x25519_batch model_x25519_batch
#define nym_x25519_batch_vectorised model_x25519_batch_vectorised
#define NYM_X25519_LANE_MODEL
#include "crypto/x25519_batch.c"

#include <criterion/criterion.h>
#include <sodium.h>

#include "../support/ifma_hw.h"
#include "../support/x25519_cases.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(x25519_model, .init = setup);

Test(x25519_model, edge_points_match_libsodium)
{
	x25519_check_edges(model_x25519_x8);
}

/* The batch front end over the modelled ladder: groups of eight, padded partial groups, and
 * the tail it leaves to one-at-a-time X25519. */
Test(x25519_model, every_batch_size_matches_one_at_a_time)
{
	cr_assert(model_x25519_batch_vectorised());
	x25519_check_batch_sizes(model_x25519_batch, 3);
}

Test(x25519_model, rfc7748_iterated_once)
{
	x25519_check_iterated(model_x25519_x8, 1);
}

/* About 4 s of CPU (20 s under the sanitizers); the bound is generous because the machines
 * that run the suite are shared. 1,000,000 iterations would take the model over an hour, so
 * only the RFC's other checkpoint, 1,000, is run. */
Test(x25519_model, rfc7748_iterated_1000_times, .timeout = 600)
{
	x25519_check_iterated(model_x25519_x8, 1000);
}

/* The model is only worth as much as its likeness to the silicon: where the CPU has IFMA,
 * every modelled instruction must give the real one's result, on random lanes and on values
 * at the edges of what the instructions read (52-bit multiplicands with junk above them,
 * accumulators that wrap, shifts by the counts the ladder uses and past the lane width). */
Test(x25519_model, model_matches_the_instructions)
{
	if (!ifma_hw_available())
		cr_skip_test("this CPU has no AVX-512 IFMA to compare the model with");
	static const uint64_t edges[] = { 0,
					  1,
					  IFMA_MODEL_M52 - 1,
					  IFMA_MODEL_M52,
					  IFMA_MODEL_M52 + 1,
					  (UINT64_C(1) << 47) - 1,
					  UINT64_C(1) << 63,
					  UINT64_MAX - 1,
					  UINT64_MAX,
					  0xfff0000000000001ull };
	static const unsigned counts[] = { 0, 1, 4, 47, 52, 63, 64 };
	enum { ROUNDS = 2000, E = sizeof(edges) / sizeof(edges[0]) };
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t a[8], b[8], c[8], hw[8];
		randombytes_buf(a, sizeof(a));
		randombytes_buf(b, sizeof(b));
		randombytes_buf(c, sizeof(c));
		for (int j = 0; j < 8; j++) {
			/* Half the rounds mix edge values into the lanes. */
			if (round % 2) {
				uint32_t r = randombytes_uniform(4 * E);
				if (r < E)
					a[j] = edges[r];
				r = randombytes_uniform(2 * E);
				if (r < E)
					b[j] = edges[r];
				r = randombytes_uniform(2 * E);
				if (r < E)
					c[j] = edges[r];
			}
		}
		uint8_t mask = (uint8_t)randombytes_uniform(256);
		unsigned count = counts[randombytes_uniform(sizeof(counts) / sizeof(counts[0]))];
		__m512i va = _mm512_loadu_si512(a), vb = _mm512_loadu_si512(b),
			vc = _mm512_loadu_si512(c);
		__m512i model[IFMA_HW_OPS];
		model[IFMA_HW_ADD] = _mm512_add_epi64(va, vb);
		model[IFMA_HW_SUB] = _mm512_sub_epi64(va, vb);
		model[IFMA_HW_AND] = _mm512_and_si512(va, vb);
		model[IFMA_HW_SRLI] = _mm512_srli_epi64(va, count);
		model[IFMA_HW_SLLI] = _mm512_slli_epi64(va, count);
		model[IFMA_HW_MULLO] = _mm512_mullo_epi64(va, vb);
		model[IFMA_HW_MADD52LO] = _mm512_madd52lo_epu64(va, vb, vc);
		model[IFMA_HW_MADD52HI] = _mm512_madd52hi_epu64(va, vb, vc);
		model[IFMA_HW_BLEND] = _mm512_mask_blend_epi64(mask, va, vb);
		for (int op = 0; op < IFMA_HW_OPS; op++) {
			uint64_t m[8];
			ifma_hw_run((enum ifma_hw_op)op, hw, a, b, c, count, mask);
			_mm512_storeu_si512(m, model[op]);
			for (int j = 0; j < 8; j++)
				cr_assert_eq(m[j], hw[j],
					     "op %d lane %d: a=%016llx b=%016llx c=%016llx count=%u mask=%02x: model %016llx, cpu %016llx",
					     op, j, (unsigned long long)a[j], (unsigned long long)b[j],
					     (unsigned long long)c[j], count, mask,
					     (unsigned long long)m[j], (unsigned long long)hw[j]);
		}
	}
	/* set1, setzero, loadu and storeu round-trip what they are given. */
	uint64_t v[8];
	_mm512_storeu_si512(v, _mm512_set1_epi64(-2));
	for (int j = 0; j < 8; j++)
		cr_assert_eq(v[j], UINT64_MAX - 1);
	_mm512_storeu_si512(v, _mm512_setzero_si512());
	for (int j = 0; j < 8; j++)
		cr_assert_eq(v[j], 0);
}
