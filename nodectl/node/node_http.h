/* The node's HTTP API (libmicrohttpd, its own thread): health, roles, build and host
 * information, description, load, Prometheus and JSON packet statistics, and any routes a
 * role adds (the authority's /v1 API). Request bodies are taken only by routes that declare
 * a maximum; anything longer is refused with 413 as soon as it is announced or exceeded. */
#ifndef NYM_NODECTL_NODE_HTTP_H
#define NYM_NODECTL_NODE_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_metrics.h"

struct MHD_Daemon;
struct MHD_Connection;
struct node_http_guard;

struct node_http_request {
	const char *method, *url;
	const char *body; /* NUL-terminated; NULL without a body */
	size_t body_len;
	struct MHD_Connection *conn;
};

struct node_http_shared;

/* What a route answers: body malloc'd (taken over), or NULL for an empty body; or a shared
 * body from a cache (node_http_cache_get), which then takes the place of the rest. */
struct node_http_reply {
	unsigned status;
	const char *content_type;
	char *body;
	size_t len;
	char signature[320]; /* X-Nym-Signature value, when not empty */
	struct node_http_shared *shared;
};

typedef void (*node_http_handler)(void *ctx, const struct node_http_request *req, struct node_http_reply *rep);
/* Builds an answer that does not depend on the request. */
typedef void (*node_http_handler_fn)(void *ctx, struct node_http_reply *rep);

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

/* An answer that is the same for every client (a node list, a signed document), built once
 * per change of what it shows and then sent from memory to everyone who asks. The version is
 * two numbers chosen by the route (say, a database's change counter and the current epoch).
 * A new body replaces the old one at once; answers still being sent keep the old body until
 * they finish. Each body has an ETag (a digest of it): a client sending it back in
 * If-None-Match gets 304 and no body. */
struct node_http_cache {
	pthread_mutex_t lock;	    /* current and version */
	pthread_mutex_t build_lock; /* held while building, so simultaneous misses build once */
	struct node_http_shared *current;
	uint64_t version[2];
};

void node_http_cache_init(struct node_http_cache *c);
void node_http_cache_clear(struct node_http_cache *c);
/* Answers rep from the cache when it holds the answer at version {v0, v1}; otherwise calls
 * build(ctx, rep) and, when that answers 200, keeps the answer for that version. */
void node_http_cached(struct node_http_cache *c, uint64_t v0, uint64_t v1, node_http_handler_fn build, void *ctx,
		      struct node_http_reply *rep);

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
	struct node_http_guard *guard;
};

/* Starts serving on cfg->http.bind_address. Returns 0 or a negative errno. */
int node_http_start(struct node_http *h);
void node_http_stop(struct node_http *h);

#endif
