#include "nodectl/gateway/gateway.h"

#include <stdio.h>
#include <string.h>

#include "nodectl/commands.h"
#include "nodectl/gateway/gateway_service.h"

int gateway_run(const char *context, const struct node_config *cfg, const char *dir, const struct mixnode_options *o)
{
	/* The data plane ends routes here; the gateway service beside it takes the final hops and
	 * serves the clients (nodectl/gateway/gateway_service.h). */
	struct gateway_service *g;
	struct mixnode_service svc;
	struct mixnode_options opts = *o;
	if (gateway_service_create(&g, context)) {
		fprintf(stderr, "%s: out of memory\n", context);
		return EXIT_FAIL;
	}
	gateway_service_bind(g, &svc);
	opts.service = &svc;
	int status = mixnode_run(context, cfg, dir, &opts);
	gateway_service_free(g);
	return status;
}
