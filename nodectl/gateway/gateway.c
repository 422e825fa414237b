#include "nodectl/gateway/gateway.h"

int gateway_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o)
{
	/* The data plane sees the gateway mode in the configuration and ends routes here. */
	return mixnode_run(context, cfg, dir, o);
}
