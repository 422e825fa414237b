/* Per-hop mixing delays (nymtech/sphinx src/header/delays.rs, Nym's routing crate).
 *
 * Each hop's delay is an independent draw from the exponential distribution with the given
 * mean, in nanoseconds, rounded to the nearest integer: what Nym's clients put in the Sphinx
 * header and what a mixnode sleeps before forwarding. A mean of zero gives zero. */
#ifndef NYM_MIX_MIX_DELAY_H
#define NYM_MIX_MIX_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

/* One draw of Exp(1 / mean_ns). rng NULL means system randomness; tests pass a seeded one.
 * Saturates at UINT64_MAX (only reachable with means above about 2^58 ns, 9 years). */
uint64_t mix_delay_sample_ns(uint64_t mean_ns, const struct nym_rng *rng);

/* n independent draws, one per hop. */
void mix_delay_sample_route(uint64_t mean_ns, const struct nym_rng *rng, uint64_t *out, size_t n);

#endif
