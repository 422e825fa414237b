#include "ifma_hw.h"

#include <immintrin.h>
#include <stdlib.h>

#define IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

bool ifma_hw_available(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512ifma");
}

/* The shift instructions take their count as an immediate. */
#define SHIFT_CASES(fn, a)                                                                   \
	switch (count) {                                                                     \
	case 0: return fn(a, 0);                                                             \
	case 1: return fn(a, 1);                                                             \
	case 4: return fn(a, 4);                                                             \
	case 47: return fn(a, 47);                                                           \
	case 52: return fn(a, 52);                                                           \
	case 63: return fn(a, 63);                                                           \
	case 64: return fn(a, 64);                                                           \
	default: abort();                                                                    \
	}

IFMA static __m512i srli(__m512i a, unsigned count)
{
	SHIFT_CASES(_mm512_srli_epi64, a)
}

IFMA static __m512i slli(__m512i a, unsigned count)
{
	SHIFT_CASES(_mm512_slli_epi64, a)
}

IFMA void ifma_hw_run(enum ifma_hw_op op, uint64_t r[8], const uint64_t a[8], const uint64_t b[8],
		      const uint64_t c[8], unsigned count, uint8_t mask)
{
	__m512i va = _mm512_loadu_si512(a), vb = _mm512_loadu_si512(b),
		vc = _mm512_loadu_si512(c), vr;
	switch (op) {
	case IFMA_HW_ADD: vr = _mm512_add_epi64(va, vb); break;
	case IFMA_HW_SUB: vr = _mm512_sub_epi64(va, vb); break;
	case IFMA_HW_AND: vr = _mm512_and_si512(va, vb); break;
	case IFMA_HW_SRLI: vr = srli(va, count); break;
	case IFMA_HW_SLLI: vr = slli(va, count); break;
	case IFMA_HW_MULLO: vr = _mm512_mullo_epi64(va, vb); break;
	case IFMA_HW_MADD52LO: vr = _mm512_madd52lo_epu64(va, vb, vc); break;
	case IFMA_HW_MADD52HI: vr = _mm512_madd52hi_epu64(va, vb, vc); break;
	case IFMA_HW_BLEND: vr = _mm512_mask_blend_epi64(mask, va, vb); break;
	default: abort();
	}
	_mm512_storeu_si512(r, vr);
}
