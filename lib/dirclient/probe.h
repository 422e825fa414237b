/* Reachability probes: for each node, a TCP connection to its mixnet port and GET
 * /api/v1/health on its HTTP API, max_parallel nodes at a time (libcurl multi) in list order,
 * each within timeout_ms and all within deadline_ms. A node answers when the connection is
 * accepted and the API says {"status":"up"}; a node the deadline left unprobed does not. */
#ifndef NYM_DIRCLIENT_PROBE_H
#define NYM_DIRCLIENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "topology/descriptor.h"

struct nym_probe {
	const struct nym_descriptor *node; /* probed at its first address */
	bool mix_ok, http_ok;
};

/* Returns 0, -EINVAL or -ENOMEM. */
int nym_probe_run(struct nym_probe *probes, size_t n, long timeout_ms, size_t max_parallel, long deadline_ms);

#endif
