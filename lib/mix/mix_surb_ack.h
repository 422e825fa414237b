/* SURB-ACKs (nymtech/nym common/nymsphinx/acknowledgements): with every fragment the sender
 * ships a ready-made ack-size Sphinx packet routed back to itself (through the mixnet to its
 * own gateway). The recipient's gateway sends it on when the fragment arrives; the sender
 * recognises the returning ack and stops retransmitting.
 *
 *     SURB-ACK bytes: first hop (19: unpadded routing address, zero-padded) | ack packet (386)
 *     ack plaintext:  IV (16) | AES-128-CTR64(ack key, IV, FragmentIdentifier (5))
 *
 * The ack packet's destination is the sender's identity, its identifier 16 zero bytes. */
#ifndef NYM_MIX_MIX_SURB_ACK_H
#define NYM_MIX_MIX_SURB_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/secret.h"
#include "mix/mix_fragment.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_packet_size.h"
#include "sphinx/sphinx_header.h"

#define MIX_ACK_KEY_LEN 16
#define MIX_ACK_PLAINTEXT_LEN (MIX_ACK_IV_LEN + MIX_FRAG_ID_LEN)
#define MIX_SURB_ACK_LEN (MIX_NODE_ADDR_MAX_UNPADDED_LEN + MIX_ACK_PACKET_LEN) /* 405 */
/* The first hop's bytes in front of every non-ack plaintext (19). */
#define MIX_SURB_ACK_HOP_LEN MIX_NODE_ADDR_MAX_UNPADDED_LEN

struct mix_surb_ack {
	uint8_t bytes[MIX_SURB_ACK_LEN];
	uint64_t expected_delay_ns; /* sum of the route's delays but the last (gateways do not delay) */
};

/* Builds the SURB-ACK for fragment `id` over `route` (mix nodes, then the sender's gateway),
 * addressed to sender_identity. Returns 0, -EINVAL or -EPROTONOSUPPORT. */
int mix_surb_ack_create(struct mix_surb_ack *ack, const struct sphinx_hop *route, size_t hops,
			const uint8_t sender_identity[32], const uint8_t ack_key[MIX_ACK_KEY_LEN],
			const struct mix_fragment_id *id, uint16_t version, const struct nym_rng *rng);

/* n SURB-ACKs at once over routes[k] (hops each) for ids[k], their Sphinx packets built
 * together (sphinx_packet_create_batch). rc[k] gets what mix_surb_ack_create would return. */
void mix_surb_ack_create_batch(struct mix_surb_ack *acks, const struct sphinx_hop *const *routes, size_t hops,
			       const uint8_t sender_identity[32], const uint8_t ack_key[MIX_ACK_KEY_LEN],
			       const struct mix_fragment_id *ids, uint16_t version, const struct nym_rng *rng,
			       int *rc, size_t n);

/* The gateway's side: where to send the ack packet and the packet itself (points into ack).
 * Returns 0 or -EINVAL (the first hop does not decode). */
int mix_surb_ack_split(const uint8_t ack[MIX_SURB_ACK_LEN], struct sockaddr_storage *first_hop,
		       socklen_t *first_hop_len, const uint8_t **packet);

/* Whether a non-ack plaintext (at least MIX_SURB_ACK_HOP_LEN bytes) has no SURB-ACK: its
 * first hop is all zero, the unacknowledged layout (docs/PROTOCOLS.md §2.8; our deviation). */
bool mix_surb_ack_absent(const uint8_t *plaintext);

/* The sender's side: the fragment an ack names, from the ack packet's recovered plaintext.
 * Returns 0, or -EINVAL (wrong length, or garbage under this key). */
int mix_surb_ack_recognise(const uint8_t *plaintext, size_t len, const uint8_t ack_key[MIX_ACK_KEY_LEN],
			   struct mix_fragment_id *id);

#endif
