/* The gateway service beside the mix workers (nym-node run --mode entry-gateway|exit-gateway):
 *
 *   - one thread with its own io_uring: the client link listener (gateway.clients_port, on
 *     mixnet.bind_address's host, IPv4 and IPv6), one lib/gateway/gateway_link per connection,
 *     per-address limits and deadlines like the mixnet listener (io/conn_limit);
 *   - final hops from the workers (gateway_plane): SURB-ACKs back into the mixnet, messages to
 *     the connected client, its inbox (clients.sqlite) or the IP packet router;
 *   - the ticket store (data/tickets.db) for SPEND_TICKET, with a second thread that fetches
 *     the issuer keys and the merged spent filter from the authorities and reports spent
 *     serials through the outbox (gateway_outbox);
 *   - on an exit gateway with exit_gateway.ip_packet_router.enabled, the IPR
 *     (gateway_ipr_start), fed final hops addressed to this gateway's identity.
 *
 * Counters go to the node's metrics block for services (nym_node_gateway_*). */
#ifndef NYM_NODECTL_GATEWAY_SERVICE_H
#define NYM_NODECTL_GATEWAY_SERVICE_H

#include "nodectl/mixnode/mixnode.h"

struct gateway_service;

/* A service to hand to mixnode_run (struct mixnode_options.service). */
int gateway_service_create(struct gateway_service **out, const char *context);
void gateway_service_free(struct gateway_service *g);
void gateway_service_bind(struct gateway_service *g, struct mixnode_service *out);

#endif
