/* The node's HTTP API (libmicrohttpd, its own thread): health, roles, build and host
 * information, description, load, Prometheus and JSON packet statistics. */
#ifndef NYM_NODECTL_NODE_HTTP_H
#define NYM_NODECTL_NODE_HTTP_H

#include <pthread.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "node_config.h"
#include "node_metrics.h"

struct MHD_Daemon;

/* What the API shows; the main thread updates the mutable parts under `lock`. */
struct node_http {
	const struct node_config *cfg;
	struct node_metrics *metrics;
	const struct nym_ed25519_keypair *identity;
	uint8_t noise_public[32];
	int64_t started_unix;
	pthread_mutex_t lock;
	/* Sphinx keys currently announced: rotation id and public key, primary first. */
	size_t sphinx_count;
	uint32_t sphinx_rotation[2];
	uint8_t sphinx_public[2][32];
	char *description_json; /* {"moniker":...} */
	struct MHD_Daemon *daemon;
};

/* Starts serving on cfg->http.bind_address. Returns 0 or a negative errno. */
int node_http_start(struct node_http *h);
void node_http_stop(struct node_http *h);

#endif
