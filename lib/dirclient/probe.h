/* Reachability probes: for each node, a TCP connection to its mixnet port and GET
 * /api/v1/health on its HTTP API, all in parallel (libcurl multi) within one deadline. A
 * node answers when the connection is accepted and the API says {"status":"up"}. */
#ifndef NYM_DIRCLIENT_PROBE_H
#define NYM_DIRCLIENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "topology/descriptor.h"

struct nym_probe {
	const struct nym_descriptor *node; /* probed at its first address */
	bool mix_ok, http_ok;
};

/* Runs every probe; at most timeout_ms in all. Returns 0 or -ENOMEM. */
int nym_probe_run(struct nym_probe *probes, size_t n, long timeout_ms);

#endif
