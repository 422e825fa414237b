/* nym-node run --mode entry-gateway | exit-gateway: the gateway roles. They run the mixnet
 * data plane and, beside it, the gateway service (gateway_service.h): client links, ticket
 * spending, final hops (SURB-ACKs, delivery, the inbox) and, on an exit, the IP packet
 * router. */
#ifndef NYM_NODECTL_GATEWAY_H
#define NYM_NODECTL_GATEWAY_H

#include "nodectl/mixnode/mixnode.h"
#include "nodectl/node/node_config.h"

/* Runs until SIGINT or SIGTERM; as mixnode_run. */
int gateway_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o);

#endif
