/* Nodes for the directory suites: identities from a seed byte and self-descriptions signed
 * with them. */
#ifndef NYM_TESTS_TOPOFIX_H
#define NYM_TESTS_TOPOFIX_H

#include <stdint.h>

#include "crypto/ed25519.h"
#include "topology/descriptor.h"
#include "topology/vote.h"

/* The identity of node `n` (deterministic). */
void topofix_identity(unsigned n, struct nym_ed25519_keypair *kp);

/* A valid description of node n with the given roles (mixnode, or entry/exit[/wireguard]),
 * address 198.51.100.<n>, published at `published`. */
void topofix_descriptor(unsigned n, unsigned roles, int64_t published, struct nym_descriptor *d);
/* The same, signed. */
void topofix_signed(unsigned n, unsigned roles, int64_t published, struct nym_descriptor_signed *sd);

/* A signed vote of authority `a` (identity 200 + a) for `epoch` (validity epoch*60 to
 * epoch*60+60) listing nodes[0..count) as mixnodes published at 1000. */
void topofix_vote(unsigned a, uint64_t epoch, const unsigned *nodes, size_t count,
		  const uint8_t *previous, struct nym_vote *v);

#endif
