/* The sender's side of the key exchange: the first alpha and every hop's expanded secret.
 *
 * Nym defines the secret of hop i as X25519 applied n(n+1)/2 + 1 times in total (x, then
 * each earlier hop's blinding factor in turn), which would put 11 curve operations into a
 * 4-hop packet. Every X25519 scalar is clamped and so a multiple of 8, and on the curve these
 * multiplications compose, so the chain equals one multiplication of the hop's public key by
 * the product of the scalars. We keep that product modulo the group order and hand X25519 a
 * clamped scalar congruent to it (or to its negation, which yields the same u-coordinate): one
 * operation per hop, byte-identical output (tests compare with the literal chain). */
#ifndef NYM_SPHINX_SENDER_H
#define NYM_SPHINX_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "sphinx/sphinx_keys.h"

/* alpha0 = X25519(x, 9); keys[i] = expansion of hop i's shared secret with route_keys[i].
 * Returns 0, or -EINVAL when a route key yields an all-zero secret (a small-order point). */
int sphinx_sender_keys(uint8_t alpha0[32], struct sphinx_hop_keys *keys,
		       const uint8_t (*route_keys)[32], size_t hops, const uint8_t x[32]);

/* sphinx_sender_keys for n packets at once: step i runs the i-th curve operation of every
 * packet in one nym_x25519_batch (alpha0 is X25519(x, 9) in the first step), so that a client
 * building several packets together uses the eight-lane ladder. The steps of one packet
 * depend on each other (each hop's scalar includes the earlier blinding factors); packets do
 * not. Same bytes as sphinx_sender_keys. rc[k] gets what it would return for packet k. */
void sphinx_sender_keys_batch(uint8_t (*alpha0)[32], struct sphinx_hop_keys (*keys)[SPHINX_MAX_HOPS],
			      const uint8_t (*const *route_keys)[32], const size_t *hops, const uint8_t (*x)[32],
			      int *rc, size_t n);

/* The literal definition (x then each blinding factor, one X25519 each). Used as the
 * fallback for the 2^-120-likely scalar the shortcut cannot represent, and by the tests. */
int sphinx_sender_keys_chain(uint8_t alpha0[32], struct sphinx_hop_keys *keys,
			     const uint8_t (*route_keys)[32], size_t hops, const uint8_t x[32]);

#endif
