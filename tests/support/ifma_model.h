/* A lane-by-lane model, in portable C, of the AVX-512 intrinsics the eight-lane X25519 ladder
 * (lib/crypto/x25519_batch.c) uses, under the intrinsics' own names. A test includes this
 * header, defines NYM_X25519_LANE_MODEL and then includes the ladder's source, so the same
 * vectorised code runs on CPUs without AVX-512 IFMA.
 *
 * Each function follows Intel's pseudocode for its instruction exactly, including the parts a
 * correct ladder should never reach: vpmadd52luq/vpmadd52huq read only the low 52 bits of
 * each multiplicand (so a limb that has grown past 2^52 loses its top bits here as it would in
 * silicon), the accumulation wraps modulo 2^64, and shifts by 64 or more give zero.
 * tests/support/ifma_hw.c holds the real instructions behind the same interface so a test can
 * hold the two side by side where the CPU has them.
 *
 * Never include <immintrin.h> in the same translation unit. */
#ifndef NYM_TESTS_IFMA_MODEL_H
#define NYM_TESTS_IFMA_MODEL_H

#include <stdint.h>
#include <string.h>

#define IFMA_MODEL_LANES 8
#define IFMA_MODEL_M52 ((UINT64_C(1) << 52) - 1)

typedef struct {
	uint64_t lane[IFMA_MODEL_LANES];
} __m512i;
typedef uint8_t __mmask8;

static inline __m512i _mm512_setzero_si512(void)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = 0;
	return r;
}

static inline __m512i _mm512_set1_epi64(long long x)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = (uint64_t)x;
	return r;
}

static inline __m512i _mm512_loadu_si512(const void *p)
{
	__m512i r;
	memcpy(r.lane, p, sizeof(r.lane));
	return r;
}

static inline void _mm512_storeu_si512(void *p, __m512i a)
{
	memcpy(p, a.lane, sizeof(a.lane));
}

static inline __m512i _mm512_add_epi64(__m512i a, __m512i b)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] + b.lane[j];
	return r;
}

static inline __m512i _mm512_sub_epi64(__m512i a, __m512i b)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] - b.lane[j];
	return r;
}

static inline __m512i _mm512_and_si512(__m512i a, __m512i b)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] & b.lane[j];
	return r;
}

/* vpsrlq/vpsllq by an immediate: counts above 63 clear the lane. */
static inline __m512i _mm512_srli_epi64(__m512i a, unsigned int count)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = count > 63 ? 0 : a.lane[j] >> count;
	return r;
}

static inline __m512i _mm512_slli_epi64(__m512i a, unsigned int count)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = count > 63 ? 0 : a.lane[j] << count;
	return r;
}

/* vpmullq: the low 64 bits of the 128-bit product. */
static inline __m512i _mm512_mullo_epi64(__m512i a, __m512i b)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] * b.lane[j];
	return r;
}

/* The 104-bit product of the low 52 bits of b and c. */
static inline unsigned __int128 ifma_model_product(uint64_t b, uint64_t c)
{
	return (unsigned __int128)(b & IFMA_MODEL_M52) * (c & IFMA_MODEL_M52);
}

/* vpmadd52luq: a + bits 0..51 of the product, modulo 2^64. */
static inline __m512i _mm512_madd52lo_epu64(__m512i a, __m512i b, __m512i c)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] + ((uint64_t)ifma_model_product(b.lane[j], c.lane[j]) & IFMA_MODEL_M52);
	return r;
}

/* vpmadd52huq: a + bits 52..103 of the product, modulo 2^64. */
static inline __m512i _mm512_madd52hi_epu64(__m512i a, __m512i b, __m512i c)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = a.lane[j] + (uint64_t)(ifma_model_product(b.lane[j], c.lane[j]) >> 52);
	return r;
}

/* vpblendmq: lane j from b where bit j of k is set, else from a. */
static inline __m512i _mm512_mask_blend_epi64(__mmask8 k, __m512i a, __m512i b)
{
	__m512i r;
	for (int j = 0; j < IFMA_MODEL_LANES; j++)
		r.lane[j] = (k >> j) & 1 ? b.lane[j] : a.lane[j];
	return r;
}

#endif
