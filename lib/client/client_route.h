/* Routes through the mixnet as a Nym client builds them: one mixnode of each layer, drawn at
 * random from the epoch document, then a gateway; and the framed Sphinx packets that travel
 * them. No sockets here: the caller connects to route->addresses[0] and writes the frames. */
#ifndef NYM_CLIENT_CLIENT_ROUTE_H
#define NYM_CLIENT_CLIENT_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "net/net_addr.h"
#include "mix/mix_frame.h"
#include "sphinx/sphinx_header.h"
#include "topology/epoch_doc.h"

#define CLIENT_ROUTE_HOPS (NYM_LAYERS + 1)
#define CLIENT_ROUTE_FRAME_LEN (MIX_FRAME_HEADER_LEN + MIX_REGULAR_PACKET_LEN)

struct client_route {
	const struct nym_descriptor_signed *nodes[CLIENT_ROUTE_HOPS]; /* layers 1..3, then the gateway */
	struct sphinx_hop hops[CLIENT_ROUTE_HOPS];		      /* delays 0 until sampled */
	struct net_addr addresses[CLIENT_ROUTE_HOPS];		      /* mixnet addresses; frames go to [0] */
	uint8_t key_rotation;					      /* enum mix_key_rotation of the frames */
};

/* Picks one mixnode per layer at random and ends the route at `gateway` (a descriptor of doc,
 * or NULL when none was found). Every node announces its current Sphinx key first and all
 * rotate on one schedule, so that key and its rotation are the ones used. Returns 0; -ENOENT
 * with *missing_hop set to the first hop without a node (0..2 a layer, 3 the gateway); -EINVAL
 * when a node has no usable mixnet address. */
int client_route_pick(const struct nym_epoch_doc *doc, const struct nym_descriptor_signed *gateway,
		      struct client_route *r, int *missing_hop);

/* Draws each mix hop's delay from the exponential distribution with this mean. */
void client_route_sample_delays(struct client_route *r, uint64_t mean_ns);

/* Writes one frame (v8 header, regular Sphinx packet) carrying msg along the route; out needs
 * CLIENT_ROUTE_FRAME_LEN bytes. Returns 0 or the negative errno of the packet's creation. */
int client_route_frame(const struct client_route *r, const uint8_t *msg, size_t msg_len,
		       uint8_t out[CLIENT_ROUTE_FRAME_LEN]);

#endif
