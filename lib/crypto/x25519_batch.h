/* X25519 for many independent (scalar, point) pairs at once. On CPUs with AVX-512 IFMA, eight
 * scalar multiplications run side by side in one Montgomery ladder (radix 2^52, one lane per
 * pair): about three times the throughput of libsodium's one-at-a-time ladder on the same
 * core, at the cost of latency (a group of eight takes about as long as three single ones).
 * Elsewhere, and for groups too small to gain, it calls nym_x25519 for each pair. Results are
 * the same bytes either way; a mixnode uses it to drain a backlog of packets faster. */
#ifndef NYM_CRYPTO_X25519_BATCH_H
#define NYM_CRYPTO_X25519_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x25519.h"

#define NYM_X25519_LANES 8

/* out[i] = X25519(scalar[i], point[i]) for i < n; rc[i] is 0, or -EINVAL when the result is
 * all zero (a low-order point), as nym_x25519 reports it. out may alias point. */
void nym_x25519_batch(uint8_t (*out)[NYM_X25519_LEN], const uint8_t (*scalar)[NYM_X25519_LEN],
		      const uint8_t (*point)[NYM_X25519_LEN], int *rc, size_t n);

/* Whether this CPU runs the eight-lane ladder. */
bool nym_x25519_batch_vectorised(void);

/* Runs the eight-lane ladder on exactly eight pairs, with no zero check. Only for tests and
 * benchmarks; requires nym_x25519_batch_vectorised(). */
void nym_x25519_batch_x8(uint8_t out[NYM_X25519_LANES][NYM_X25519_LEN], const uint8_t scalar[NYM_X25519_LANES][NYM_X25519_LEN],
		   const uint8_t point[NYM_X25519_LANES][NYM_X25519_LEN]);

#endif
