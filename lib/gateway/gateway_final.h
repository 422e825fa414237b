/* What a gateway does with a final-hop packet (docs/PROTOCOLS.md §8.6): the SURB-ACK in front of
 * the message goes back into the mixnet at once (a zero first hop, the unacknowledged layout,
 * has none), and the plaintext after the first hop, its ack-packet bytes zeroed when they
 * held one, is the RECEIVE item (2029 bytes for regular); it goes by destination to the gateway's own IP packet
 * router, to the connected client, or to the client's inbox. Acknowledgements (ack class, the
 * final hop of a SURB-ACK) carry no SURB-ACK of their own and are delivered whole. No sockets:
 * the owner supplies the four ways out. */
#ifndef NYM_GATEWAY_GATEWAY_FINAL_H
#define NYM_GATEWAY_GATEWAY_FINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mix/mix_packet_size.h"
#include "net/net_addr.h"

struct gateway_final_hooks {
	void *ctx;
	/* Sends a built Sphinx packet to next_hop (the SURB-ACK). Returns 0 or a negative errno. */
	int (*inject)(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		      const uint8_t *packet, size_t len);
	/* The IP packet router's message (NULL: there is none here). */
	void (*to_ipr)(void *ctx, enum mix_packet_size size, const uint8_t *item, size_t len);
	/* The connected client's link: 0 when handed over; -ENOENT when the client is not
	 * connected, anything else when its link cannot take it now (both go to the inbox). */
	int (*to_client)(void *ctx, const uint8_t identity[32], enum mix_packet_size size, const uint8_t *item,
			 size_t len);
	/* The inbox: 0 or a negative errno (dropped). */
	int (*to_inbox)(void *ctx, const uint8_t identity[32], enum mix_packet_size size, const uint8_t *item,
			size_t len);
};

struct gateway_final_counters {
	uint64_t received;
	uint64_t malformed;	   /* not the class's plaintext length, or a SURB-ACK that does not decode */
	uint64_t acks_sent;	   /* SURB-ACKs injected */
	uint64_t acks_failed;	   /* ... that inject refused */
	uint64_t acks_skipped;	   /* zero first hops (unacknowledged packets) */
	uint64_t to_ipr;
	uint64_t to_client;
	uint64_t to_inbox;
	uint64_t dropped;	   /* the inbox refused it (full) */
};

struct gateway_final {
	struct gateway_final_hooks hooks;
	bool ipr;	       /* whether ipr_identity routes to_ipr */
	uint8_t ipr_identity[32];
	struct gateway_final_counters counters;
	uint8_t scratch[MIX_PACKET_MAX_LEN]; /* an item whose ack bytes are zeroed */
};

/* ipr_identity NULL: no IP packet router here. */
void gateway_final_init(struct gateway_final *f, const struct gateway_final_hooks *hooks, const uint8_t *ipr_identity);

/* One final hop: msg (msg_len bytes, the Sphinx plaintext, modified by nothing) of class size
 * for destination, arrived with rotation byte key_rotation (the SURB-ACK was built with the
 * same keys). Returns 0 when handled (delivered, stored or counted as dropped) or -EINVAL
 * (malformed, counted). */
int gateway_final_handle(struct gateway_final *f, enum mix_packet_size size, const uint8_t destination[32],
			 uint8_t key_rotation, const uint8_t *msg, size_t msg_len);

#endif
