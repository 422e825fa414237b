/* The node's HTTP API (libmicrohttpd, its own thread): health, roles, build and host
 * information, description, load, Prometheus and JSON packet statistics, and any routes a
 * role adds (the authority's /v1 API). Request bodies are taken only by routes that declare
 * a maximum; anything longer is refused with 413 as soon as it is announced or exceeded. */
#ifndef NYM_NODECTL_NODE_HTTP_H
#define NYM_NODECTL_NODE_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_metrics.h"

struct MHD_Daemon;
struct MHD_Connection;

struct node_http_request {
	const char *method, *url;
	const char *body; /* NUL-terminated; NULL without a body */
	size_t body_len;
	struct MHD_Connection *conn;
};

/* What a route answers: body malloc'd (taken over), or NULL for an empty body. */
struct node_http_reply {
	unsigned status;
	const char *content_type;
	char *body;
	size_t len;
	char signature[320]; /* X-Nym-Signature value, when not empty */
};

typedef void (*node_http_handler)(void *ctx, const struct node_http_request *req, struct node_http_reply *rep);

struct node_http_route {
	const char *method;
	const char *path; /* exact, or a prefix when it ends with '/' */
	size_t max_body;  /* 0: the route takes no body */
	node_http_handler fn;
};

/* A query parameter of the request, or NULL. */
const char *node_http_query(const struct node_http_request *req, const char *key);
/* Fills rep with {"error": message}. */
void node_http_error(struct node_http_reply *rep, unsigned status, const char *message);
/* Fills rep with a JSON value (taken over), compact. */
void node_http_json(struct node_http_reply *rep, unsigned status, json_t *v);

/* What the API shows; the main thread updates the mutable parts under `lock`. */
struct node_http {
	const struct node_config *cfg;
	struct node_metrics *metrics; /* NULL: no mixnet counters (an authority) */
	/* Extra routes, tried before the built-in ones, and extra Prometheus text. */
	const struct node_http_route *routes;
	void *route_ctx;
	char *(*extra_metrics)(void *ctx);
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
