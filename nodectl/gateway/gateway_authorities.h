/* The authorities as the gateway's ticket engine (lib/gateway/gateway_tickets) reaches them:
 * over HTTP with the directory client, their answers checked against trusted keys when any are
 * given. Failures are written to stderr after `context`. */
#ifndef NYM_NODECTL_GATEWAY_AUTHORITIES_H
#define NYM_NODECTL_GATEWAY_AUTHORITIES_H

#include <stddef.h>

#include "dirclient/dir_client.h"
#include "gateway/gateway_tickets.h"

struct gateway_authorities {
	const char *context;
	const char *const *urls;
	size_t count;
	const struct nym_dir_client_trust *trust; /* count 0: nothing verified */
	long timeout_ms;
};

/* Fills `out` to call through `ga`, which must outlive it. */
void gateway_authorities_bind(struct gateway_authorities *ga, struct gateway_tickets_authorities *out);

#endif
