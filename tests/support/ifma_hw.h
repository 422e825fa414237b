/* The AVX-512 instructions that tests/support/ifma_model.h models, run for real on arrays of
 * eight lanes, so a test can check the model against the silicon on CPUs that have them. */
#ifndef NYM_TESTS_IFMA_HW_H
#define NYM_TESTS_IFMA_HW_H

#include <stdbool.h>
#include <stdint.h>

enum ifma_hw_op {
	IFMA_HW_ADD,	 /* a + b */
	IFMA_HW_SUB,	 /* a - b */
	IFMA_HW_AND,	 /* a & b */
	IFMA_HW_SRLI,	 /* a >> count */
	IFMA_HW_SLLI,	 /* a << count */
	IFMA_HW_MULLO,	 /* a * b */
	IFMA_HW_MADD52LO, /* a + low52(b * c) */
	IFMA_HW_MADD52HI, /* a + high52(b * c) */
	IFMA_HW_BLEND,	 /* mask ? b : a */
	IFMA_HW_OPS
};

/* Whether this CPU has AVX-512F, DQ and IFMA. */
bool ifma_hw_available(void);

/* r = op(a, b, c) lane by lane; count is the shift (only the counts the ladder uses, 1, 4,
 * 47 and 52, have an instruction form here), mask the blend mask. Requires
 * ifma_hw_available(). */
void ifma_hw_run(enum ifma_hw_op op, uint64_t r[8], const uint64_t a[8], const uint64_t b[8],
		 const uint64_t c[8], unsigned count, uint8_t mask);

#endif
