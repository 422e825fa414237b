/* The meeting point of a gateway's mix workers and its gateway service thread:
 *
 *   mix worker --final hop (copied)--> final queue --eventfd--> gateway service thread
 *   gateway service, IPR --gateway_plane_inject--> inject queue --eventfd--> mix worker 0
 *                                                  -> v8 frame -> next hop's egress queue
 *
 * Both queues are bounded (gateway.final_queue): what does not fit is dropped and counted
 * (nym_node_gateway_final_hop_queue_dropped, nym_node_gateway_inject_dropped). The workers
 * never block on the service: a slow service loses packets, it does not stall the mixnet. */
#ifndef NYM_NODECTL_GATEWAY_PLANE_H
#define NYM_NODECTL_GATEWAY_PLANE_H

#include <stddef.h>
#include <stdint.h>

#include "mix/mix_packet_size.h"
#include "net/net_addr.h"
#include "nodectl/mixnode/mix_worker.h"
#include "nodectl/node/node_metrics.h"

struct gateway_plane;

/* A final-hop message taken from the queue (free with free()). */
struct gateway_plane_final {
	struct gateway_plane_final *next;
	enum mix_packet_size size;
	uint8_t key_rotation;
	uint8_t destination[32];
	size_t len;
	uint8_t msg[];
};

/* max: packets each queue holds. m: the block the plane counts its drops of injections in.
 * Returns 0, -ENOMEM or an eventfd error. */
int gateway_plane_create(struct gateway_plane **out, size_t max, struct worker_metrics *m);
/* Sets the mix workers' hooks (before mix_workers_start); the plane must outlive the workers. */
void gateway_plane_attach(struct gateway_plane *p, struct mix_shared *mix);
void gateway_plane_free(struct gateway_plane *p);

/* Thread-safe. Queues one built Sphinx packet to be framed (v8 header, key rotation byte as
 * given, 0 = the node's primary key) and sent to next_hop at once. Returns 0, -ENOBUFS
 * (dropped and counted) or -EINVAL. */
int gateway_plane_inject(struct gateway_plane *p, const struct net_addr *next_hop, uint8_t key_rotation,
			 enum mix_packet_size size, const uint8_t *packet, size_t len);

/* The service's side: the eventfd that becomes readable when final-hop messages wait, and
 * the messages themselves (oldest first, NULL when none). */
int gateway_plane_final_fd(const struct gateway_plane *p);
struct gateway_plane_final *gateway_plane_take_final(struct gateway_plane *p);

#endif
