/* nym-node run --mode entry-gateway | exit-gateway: the gateway roles. Today they run the
 * mixnet data plane, where a packet's final hop is counted and dropped; the gateway services
 * (client links, ticket spending through lib/gateway, the IP packet router, the inbox) start
 * here, next to it. */
#ifndef NYM_NODECTL_GATEWAY_H
#define NYM_NODECTL_GATEWAY_H

#include "nodectl/mixnode/mixnode.h"
#include "nodectl/node/node_config.h"

/* Runs until SIGINT or SIGTERM; as mixnode_run. */
int gateway_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o);

#endif
