/* Assigning mixnodes to the three mix layers of an epoch, the same way on every authority
 * (docs/PROTOCOLS.md §7.4). Pure and deterministic: the result depends only on the seed, the
 * set of identities and the previous epoch's layers.
 *
 *   - balanced: layer sizes differ by at most one (which layers get the extra nodes is drawn
 *     from the seed);
 *   - re-drawn every epoch: nodes are ordered, and choose among their allowed layers, by
 *     SHA-256(seed || identity);
 *   - a node is not put on the layer it held in the previous epoch unless no balanced
 *     assignment avoids it; then as few nodes as possible keep their layer. */
#ifndef NYM_TOPOLOGY_LAYERS_H
#define NYM_TOPOLOGY_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#define NYM_LAYERS 3
#define NYM_LAYER_NONE (-1)

/* seed = SHA-256("nym-layers-v1" || 0x00 || epoch (u64 BE) || previous document digest, or 32
 * zero bytes when there is none). */
void nym_layers_seed(uint64_t epoch, const uint8_t *previous_digest, uint8_t seed[32]);

/* ids: n identities (any order, distinct); prev[i]: the layer node i held in the previous
 * document (0..2) or NYM_LAYER_NONE; layer[i] receives its layer. Returns the number of nodes
 * that had to stay on their previous layer, or -EINVAL / -ENOMEM. */
int nym_layers_assign(const uint8_t seed[32], const uint8_t (*ids)[32], size_t n, const int8_t *prev,
		      uint8_t *layer);

#endif
