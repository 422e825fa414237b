/* The checks every eight-lane X25519 ladder must pass, shared by the suite of the real
 * (AVX-512 IFMA) ladder and the suite of the same ladder compiled against the scalar model of
 * its intrinsics. The reference is libsodium; where libsodium refuses a low-order point (it
 * returns an error without a result) the expected value is RFC 7748's, all zero. */
#ifndef NYM_TESTS_X25519_CASES_H
#define NYM_TESTS_X25519_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/x25519_batch.h"

typedef void x25519_x8_fn(uint8_t out[NYM_X25519_LANES][NYM_X25519_LEN],
			  const uint8_t scalar[NYM_X25519_LANES][NYM_X25519_LEN],
			  const uint8_t point[NYM_X25519_LANES][NYM_X25519_LEN]);
typedef void x25519_batch_fn(uint8_t (*out)[NYM_X25519_LEN],
			     const uint8_t (*scalar)[NYM_X25519_LEN],
			     const uint8_t (*point)[NYM_X25519_LEN], int *rc, size_t n);

/* u = 0, 1, p - 1, p, p + 1 and both order-8 points (every low-order u, canonical or not),
 * other non-canonical values up to 2^255 - 1, values on the 52-bit limb boundaries, each also
 * with bit 255 set. */
void x25519_check_edges(x25519_x8_fn *x8);

/* Random pairs with a few edge points mixed in, for every batch size 1..21: results and
 * return codes as nym_x25519 gives them one pair at a time. */
void x25519_check_batch_sizes(x25519_batch_fn *batch, int rounds);

/* RFC 7748 section 5.2's iterated vector: (k, u) = (X25519(k, u), k) from k = u = 9. Lane j
 * starts j iterations into the chain, so every lane runs different values; lane 0 must end on
 * the RFC's result (given for 1 and 1,000 iterations), lane j on libsodium's result for
 * iterations + j. */
void x25519_check_iterated(x25519_x8_fn *x8, unsigned iterations);

#endif
