#include "nodectl/node/node_http.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "io/sock.h"
#include "util/array.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

/* The Makefile sets it for this file (SOURCE_DATE_EPOCH or the build's time); other builds
 * of the same source (check-musl) need not. */
#ifndef NYM_BUILD_TIMESTAMP
#define NYM_BUILD_TIMESTAMP "unknown"
#endif

static json_t *b58(const uint8_t *key)
{
	char text[64];
	nym_base58_encode(text, sizeof(text), key, 32);
	return json_string(text);
}

/* --- Connections: the whole-request deadline and making room at the cap -------------------
 *
 * libmicrohttpd's own timeout is an idle timeout: any byte resets it, so a client sending a
 * header line every few seconds would hold its connection for ever. Every connection is
 * therefore tracked from the moment it opens (or its previous answer was sent) until its
 * request has fully arrived; a watchdog shuts down the socket of any that take longer than the
 * deadline, and once the server is nearly full each new connection shuts down the oldest one
 * still sending its request. shutdown() (never close()) only makes libmicrohttpd read the end
 * of the stream on its own thread, which then closes and forgets the connection; it is called
 * under guard->lock, which the close notification also takes, so the descriptor is still
 * this connection's. */

struct tracked {
	struct tracked *prev, *next; /* guard's list, in order of `since` */
	int fd;
	uint64_t since_ns;
	bool answering; /* the request has arrived; its answer is being sent */
	bool cut;
	struct node_http_guard *guard;
};

struct node_http_guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct tracked *head, *tail;
	size_t open, shed_above;
	uint64_t deadline_ns;
	uint64_t cut_late, cut_for_room; /* connections shut down past the deadline, at the cap */
	bool stopping;
	pthread_t watchdog;
};

static struct tracked *tracked_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* Every answer goes through here: once its request has arrived, a connection's deadline no
 * longer applies while the answer is sent. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
	struct tracked *t = tracked_of(conn);
	if (t) {
		pthread_mutex_lock(&t->guard->lock);
		t->answering = true;
		pthread_mutex_unlock(&t->guard->lock);
	}
	return MHD_queue_response(conn, status, r);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result rc = queue(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *v)
{
	char *body = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	return reply(conn, status, "application/json", body ? body : strdup("{}"));
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *message)
{
	return reply_json(conn, status, json_pack("{s:s}", "message", message));
}

static json_t *build_information(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "binary_name", "nym-node", "build_version", NYM_VERSION,
			 "commit_sha", NYM_COMMIT, "build_timestamp", NYM_BUILD_TIMESTAMP, "c_compiler", __VERSION__);
}

/* The announced addresses and keys, signed by the identity key over the compact JSON of
 * "data" (keys sorted) so a client can check them against the identity it trusts. */
static json_t *host_information(struct node_http *h)
{
	json_t *ips = json_array();
	for (size_t i = 0; i < h->cfg->host.public_ips.count; i++)
		json_array_append_new(ips, json_string(h->cfg->host.public_ips.item[i]));
	json_t *keys = json_pack("{s:o, s:o}", "ed25519_identity", b58(h->identity->public_key), "x25519_noise",
				 b58(h->noise_public));
	pthread_mutex_lock(&h->lock);
	json_t *sphinx = json_array();
	for (size_t i = 0; i < h->sphinx_count; i++)
		json_array_append_new(sphinx, json_pack("{s:I, s:o}", "rotation_id", (json_int_t)h->sphinx_rotation[i],
							"public_key", b58(h->sphinx_public[i])));
	if (h->sphinx_count)
		json_object_set_new(keys, "x25519_sphinx", b58(h->sphinx_public[0]));
	pthread_mutex_unlock(&h->lock);
	json_object_set_new(keys, "x25519_sphinx_keys", sphinx);
	json_t *data = json_pack("{s:o, s:s, s:s, s:o}", "ip_address", ips, "hostname", h->cfg->host.hostname,
				 "location", h->cfg->host.location, "keys", keys);
	char *canonical = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	uint8_t sig[NYM_ED25519_SIG_LEN];
	char sig_text[128];
	nym_ed25519_sign(h->identity, canonical, strlen(canonical), sig);
	nym_base58_encode(sig_text, sizeof(sig_text), sig, sizeof(sig));
	free(canonical);
	return json_pack("{s:o, s:s}", "data", data, "signature", sig_text);
}

static const char *load_bucket(double v)
{
	return v < 0.1 ? "negligible" : v < 0.3 ? "low" : v < 0.6 ? "medium" : v < 0.8 ? "high" : v < 0.95 ? "very_high" : "at_capacity";
}

/* Machine load (5-minute load average per CPU) and network load (bytes through non-loopback
 * interfaces against 1 Gbit/s), bucketed as nym-node does and cached for 30 seconds. */
static json_t *load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_ns, last_bytes;
	static double machine, network;
	pthread_mutex_lock(&lock);
	uint64_t now = nym_clock_now_ns();
	if (!last_ns || now - last_ns > 30 * NYM_NS_PER_SEC) {
		double avg[3] = { 0 };
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (getloadavg(avg, 3) == 3 && cpus > 0)
			machine = avg[1] / (double)cpus;
		uint64_t bytes = 0;
		FILE *f = fopen("/proc/net/dev", "r");
		char line[512];
		while (f && fgets(line, sizeof(line), f)) {
			char name[64];
			unsigned long long rx, tx, skip;
			if (sscanf(line, " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu", name, &rx, &skip, &skip,
				   &skip, &skip, &skip, &skip, &skip, &tx) == 10 && strcmp(name, "lo") != 0)
				bytes += rx + tx;
		}
		if (f)
			fclose(f);
		if (last_ns)
			network = (double)(bytes - last_bytes) / ((double)(now - last_ns) / 1e9) / 125e6;
		last_bytes = bytes;
		last_ns = now;
	}
	double total = machine > network ? machine : network;
	json_t *v = json_pack("{s:s, s:s, s:s}", "total", load_bucket(total), "machine", load_bucket(machine),
			      "network", load_bucket(network));
	pthread_mutex_unlock(&lock);
	return v;
}

static json_t *packets_stats(struct node_http *h)
{
	struct worker_metrics t;
	node_metrics_totals(h->metrics, &t);
#define V(f) (json_int_t)atomic_load(&t.f)
	return json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}}", "ingress_mixing",
			 "forward_hop_packets_received", V(ingress_forward_received), "final_hop_packets_received",
			 V(ingress_final_received), "malformed_packets_received", V(ingress_malformed),
			 "excessive_delay_packets", V(ingress_excessive_delay), "forward_hop_packets_dropped",
			 V(ingress_forward_dropped), "final_hop_packets_dropped", V(ingress_final_dropped),
			 "replayed_packets", V(ingress_replayed), "egress_mixing", "forward_hop_packets_sent",
			 V(egress_forward_sent), "ack_packets_sent", (json_int_t)0, "forward_hop_packets_dropped",
			 V(egress_forward_dropped));
#undef V
}

/* Nym's /api/v1/metrics/wireguard-stats (gateway_wg_stats_json's fields); zeros without WireGuard. */
static json_t *wireguard_stats(struct node_http *h)
{
	struct worker_metrics t;
	node_metrics_totals(h->metrics, &t);
#define V(f) (json_int_t)atomic_load(&t.f)
	return json_pack("{s:I, s:I, s:I, s:I}", "bytes_rx", V(wireguard_bytes_rx), "bytes_tx", V(wireguard_bytes_tx),
			 "total_peers", V(wireguard_total_peers), "active_peers", V(wireguard_active_peers));
#undef V
}

static bool authorised(struct node_http *h, struct MHD_Connection *conn)
{
	const char *token = h->cfg->http.access_token;
	if (!token[0])
		return true;
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	char expected[CONF_STR_MAX + 16];
	snprintf(expected, sizeof(expected), "Bearer %s", token);
	return auth && strlen(auth) == strlen(expected) && nym_ct_equal(auth, expected, strlen(expected));
}

const char *node_http_query(const struct node_http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

void node_http_json(struct node_http_reply *rep, unsigned status, json_t *v)
{
	rep->status = status;
	rep->content_type = "application/json";
	rep->body = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!rep->body) {
		rep->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		rep->body = strdup("{\"error\":\"out of memory\"}");
	}
	rep->len = rep->body ? strlen(rep->body) : 0;
}

void node_http_error(struct node_http_reply *rep, unsigned status, const char *message)
{
	node_http_json(rep, status, json_pack("{s:s}", "error", message));
}

/* One request: the route it goes to and the body gathered so far. */
struct request {
	const struct node_http_route *route;
	char *body;
	size_t len, cap;
};

static const struct node_http_route *find_route(const struct node_http *h, const char *method, const char *url)
{
	for (const struct node_http_route *r = h->routes; r && r->path; r++) {
		size_t n = strlen(r->path);
		bool match = r->path[n - 1] == '/' ? strncmp(url, r->path, n) == 0 && url[n] : strcmp(url, r->path) == 0;
		if (match && strcmp(method, r->method) == 0)
			return r;
	}
	return NULL;
}

/* A path some route serves, whatever the method: a wrong method then gets 405, not 404. */
static bool known_path(const struct node_http *h, const char *url)
{
	for (const struct node_http_route *r = h->routes; r && r->path; r++) {
		size_t n = strlen(r->path);
		if (r->path[n - 1] == '/' ? strncmp(url, r->path, n) == 0 && url[n] : strcmp(url, r->path) == 0)
			return true;
	}
	return false;
}

/* A cached body and what goes with it; freed with its last reference (the cache's, and one per
 * answer being sent). */
struct node_http_shared {
	atomic_uint refs;
	char *body;
	size_t len;
	const char *content_type;
	char etag[2 * 16 + 3];
	char signature[sizeof(((struct node_http_reply *)0)->signature)];
};

static void shared_unref(void *cls)
{
	struct node_http_shared *sh = cls;
	if (atomic_fetch_sub(&sh->refs, 1) == 1) {
		free(sh->body);
		free(sh);
	}
}

void node_http_cache_init(struct node_http_cache *c)
{
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->build_lock, NULL);
	c->current = NULL;
}

void node_http_cache_clear(struct node_http_cache *c)
{
	if (c->current)
		shared_unref(c->current);
	c->current = NULL;
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->build_lock);
}

static bool cache_get(struct node_http_cache *c, uint64_t v0, uint64_t v1, struct node_http_reply *rep)
{
	pthread_mutex_lock(&c->lock);
	struct node_http_shared *sh = c->current;
	bool hit = sh && c->version[0] == v0 && c->version[1] == v1;
	if (hit) {
		atomic_fetch_add(&sh->refs, 1);
		rep->status = MHD_HTTP_OK;
		rep->shared = sh;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void cache_put(struct node_http_cache *c, uint64_t v0, uint64_t v1, struct node_http_reply *rep)
{
	if (rep->status != MHD_HTTP_OK || rep->shared)
		return;
	struct node_http_shared *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return; /* answered uncached */
	uint8_t digest[NYM_SHA256_LEN];
	nym_sha256(digest, rep->body ? rep->body : "", rep->len);
	sh->etag[0] = '"';
	nym_hex_encode(sh->etag + 1, digest, 16);
	strcpy(sh->etag + 33, "\"");
	sh->body = rep->body;
	sh->len = rep->len;
	sh->content_type = rep->content_type;
	memcpy(sh->signature, rep->signature, sizeof(sh->signature));
	atomic_init(&sh->refs, 2); /* the cache's and this answer's */
	pthread_mutex_lock(&c->lock);
	struct node_http_shared *old = c->current;
	c->current = sh;
	c->version[0] = v0;
	c->version[1] = v1;
	pthread_mutex_unlock(&c->lock);
	if (old)
		shared_unref(old);
	rep->body = NULL;
	rep->shared = sh;
}

void node_http_cached(struct node_http_cache *c, uint64_t v0, uint64_t v1, node_http_handler_fn build, void *ctx,
		      struct node_http_reply *rep)
{
	if (cache_get(c, v0, v1, rep))
		return;
	pthread_mutex_lock(&c->build_lock);
	if (!cache_get(c, v0, v1, rep)) {
		build(ctx, rep);
		cache_put(c, v0, v1, rep);
	}
	pthread_mutex_unlock(&c->build_lock);
}

static enum MHD_Result send_shared(struct MHD_Connection *conn, struct node_http_shared *sh)
{
	const char *match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
	bool same = match && strcmp(match, sh->etag) == 0;
	struct MHD_Response *r =
		same ? MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT)
		     : MHD_create_response_from_buffer_with_free_callback_cls(sh->len, sh->body, shared_unref, sh);
	if (!r || same)
		shared_unref(sh);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "ETag", sh->etag);
	if (!same) {
		MHD_add_response_header(r, "Content-Type", sh->content_type ? sh->content_type : "application/json");
		if (sh->signature[0])
			MHD_add_response_header(r, "X-Nym-Signature", sh->signature);
	}
	enum MHD_Result rc = queue(conn, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct node_http_reply *rep)
{
	if (rep->shared)
		return send_shared(conn, rep->shared);
	struct MHD_Response *r = MHD_create_response_from_buffer(rep->len, rep->body ? rep->body : (char *)"",
								  rep->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(rep->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", rep->content_type ? rep->content_type : "application/json");
	if (rep->signature[0])
		MHD_add_response_header(r, "X-Nym-Signature", rep->signature);
	enum MHD_Result rc = queue(conn, rep->status, r);
	MHD_destroy_response(r);
	return rc;
}

/* text followed by the connection gauges and counters, into *out (asprintf's result). */
static int connection_metrics(struct node_http_guard *g, const char *text, char **out)
{
	pthread_mutex_lock(&g->lock);
	size_t open = g->open;
	uint64_t late = g->cut_late, room = g->cut_for_room;
	pthread_mutex_unlock(&g->lock);
	return asprintf(out,
			"%s# HELP nym_http_connections_open HTTP connections open\n"
			"# TYPE nym_http_connections_open gauge\nnym_http_connections_open %zu\n"
			"# HELP nym_http_connections_cut_late HTTP connections closed because their request took longer "
			"than http.request_deadline\n"
			"# TYPE nym_http_connections_cut_late counter\nnym_http_connections_cut_late %llu\n"
			"# HELP nym_http_connections_cut_for_room HTTP connections closed, oldest unfinished request first, "
			"to make room near http.max_connections\n"
			"# TYPE nym_http_connections_cut_for_room counter\nnym_http_connections_cut_for_room %llu\n",
			text, open, (unsigned long long)late, (unsigned long long)room);
}

static enum MHD_Result builtin(struct node_http *h, struct MHD_Connection *conn, const char *url)
{
	enum node_mode mode = NODE_MODE_MIXNODE;
	node_mode_parse(h->cfg->mode, &mode);
	if (strcmp(url, "/api/v1/health") == 0)
		return reply_json(conn, MHD_HTTP_OK, json_pack("{s:s, s:I}", "status", "up", "uptime",
							       (json_int_t)(nym_clock_unix_now() - h->started_unix)));
	if (strcmp(url, "/api/v1/roles") == 0)
		return reply_json(conn, MHD_HTTP_OK,
				  json_pack("{s:b, s:b, s:b, s:b}", "mixnode_enabled", mode == NODE_MODE_MIXNODE,
					    "gateway_enabled", mode == NODE_MODE_ENTRY || mode == NODE_MODE_EXIT,
					    "network_requester_enabled", 0, "ip_packet_router_enabled", 0));
	if (strcmp(url, "/api/v1/build-information") == 0)
		return reply_json(conn, MHD_HTTP_OK, build_information());
	if (strcmp(url, "/api/v1/host-information") == 0)
		return reply_json(conn, MHD_HTTP_OK, host_information(h));
	if (strcmp(url, "/api/v1/description") == 0) {
		pthread_mutex_lock(&h->lock);
		char *body = strdup(h->description_json ? h->description_json : "{}");
		pthread_mutex_unlock(&h->lock);
		return reply(conn, MHD_HTTP_OK, "application/json", body);
	}
	if (strcmp(url, "/api/v1/load") == 0)
		return reply_json(conn, MHD_HTTP_OK, load());
	if (strcmp(url, "/api/v1/metrics/packets-stats") == 0 && h->metrics)
		return reply_json(conn, MHD_HTTP_OK, packets_stats(h));
	if (strcmp(url, "/api/v1/metrics/wireguard-stats") == 0 && h->metrics)
		return reply_json(conn, MHD_HTTP_OK, wireguard_stats(h));
	if (strcmp(url, "/api/v1/metrics/prometheus") == 0) {
		if (!authorised(h, conn))
			return reply_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token is required");
		char *text = h->metrics ? node_metrics_prometheus(h->metrics) : strdup("");
		if (text && h->extra_metrics) {
			char *extra = h->extra_metrics(h->route_ctx);
			char *both = NULL;
			if (extra && asprintf(&both, "%s%s", text, extra) >= 0) {
				free(text);
				text = both;
			}
			free(extra);
		}
		char *all = NULL;
		if (text && connection_metrics(h->guard, text, &all) >= 0) {
			free(text);
			text = all;
		}
		return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", text ? text : strdup(""));
	}
	return reply_error(conn, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

/* Refused before the body is read: the connection closes after the answer. */
static enum MHD_Result too_large(struct MHD_Connection *conn, const struct node_http_route *route)
{
	if (!route || !route->max_body)
		return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "this endpoint takes no request body");
	struct node_http_reply rep = { 0 };
	node_http_error(&rep, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	return send_reply(conn, &rep);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	struct node_http *h = cls;
	struct request *rq = *state;
	if (!rq) {
		/* First call of a request: headers only. */
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*state = rq;
		rq->route = find_route(h, method, url);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		size_t max = rq->route ? rq->route->max_body : 0;
		if (cl && strtoull(cl, NULL, 10) > max)
			return too_large(conn, rq->route);
		return MHD_YES;
	}
	if (*upload_size) {
		size_t max = rq->route ? rq->route->max_body : 0;
		if (rq->len + *upload_size > max) {
			*upload_size = 0;
			return too_large(conn, rq->route);
		}
		if (nym_array_grow((void **)&rq->body, &rq->cap, rq->len + *upload_size + 1, 1))
			return MHD_NO;
		memcpy(rq->body + rq->len, upload, *upload_size);
		rq->len += *upload_size;
		rq->body[rq->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->route) {
		struct node_http_request req = { method, url, rq->body, rq->len, conn };
		struct node_http_reply rep = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };
		rq->route->fn(h->route_ctx, &req, &rep);
		return send_reply(conn, &rep);
	}
	if (known_path(h, url))
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed here");
	if (strcmp(method, "GET") != 0)
		return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is supported");
	return builtin(h, conn, url);
}

static void list_remove(struct node_http_guard *g, struct tracked *t)
{
	*(t->prev ? &t->prev->next : &g->head) = t->next;
	*(t->next ? &t->next->prev : &g->tail) = t->prev;
	t->prev = t->next = NULL;
}

static void list_append(struct node_http_guard *g, struct tracked *t)
{
	t->prev = g->tail;
	t->next = NULL;
	*(g->tail ? &g->tail->next : &g->head) = t;
	g->tail = t;
}

static void cut(struct tracked *t)
{
	shutdown(t->fd, SHUT_RDWR);
	t->cut = true;
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
			     enum MHD_ConnectionNotificationCode what)
{
	struct node_http_guard *g = cls;
	struct tracked *t = *socket_context;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!info || !(t = calloc(1, sizeof(*t))))
			return; /* untracked: only the idle timeout applies to it */
		t->fd = info->connect_fd;
		t->guard = g;
		t->since_ns = nym_clock_now_ns();
		pthread_mutex_lock(&g->lock);
		list_append(g, t);
		g->open++;
		if (g->open > g->shed_above) {
			struct tracked *old = g->head;
			while (old && (old->answering || old->cut))
				old = old->next;
			if (old && old != t) {
				cut(old);
				g->cut_for_room++;
			}
		}
		pthread_mutex_unlock(&g->lock);
		*socket_context = t;
	} else if (what == MHD_CONNECTION_NOTIFY_CLOSED && t) {
		pthread_mutex_lock(&g->lock);
		list_remove(g, t);
		g->open--;
		pthread_mutex_unlock(&g->lock);
		free(t);
		*socket_context = NULL;
	}
}

static void *watchdog(void *arg)
{
	struct node_http_guard *g = arg;
	uint64_t period = g->deadline_ns / 4 < NYM_NS_PER_SEC ? g->deadline_ns / 4 : NYM_NS_PER_SEC;
	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		uint64_t now = nym_clock_now_ns();
		for (struct tracked *t = g->head; t && now - t->since_ns >= g->deadline_ns; t = t->next)
			if (!t->answering && !t->cut) {
				cut(t);
				g->cut_late++;
			}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(period / NYM_NS_PER_SEC);
		until.tv_nsec += (long)(period % NYM_NS_PER_SEC);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
	struct node_http *h = cls;
	(void)why;
	struct request *rq = *state;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*state = NULL;
	/* The next request on this connection has its own deadline, from now. */
	struct tracked *t = tracked_of(conn);
	if (t) {
		pthread_mutex_lock(&h->guard->lock);
		t->answering = false;
		t->since_ns = nym_clock_now_ns();
		list_remove(h->guard, t);
		list_append(h->guard, t);
		pthread_mutex_unlock(&h->guard->lock);
	}
}

static int guard_start(struct node_http *h)
{
	struct node_http_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&g->lock, NULL);
	g->deadline_ns = h->cfg->http.request_deadline_ns;
	g->shed_above = (size_t)h->cfg->http.max_connections - (size_t)h->cfg->http.max_connections / 8;
	int rc = -pthread_create(&g->watchdog, NULL, watchdog, g);
	if (rc) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return rc;
	}
	h->guard = g;
	return 0;
}

static void guard_stop(struct node_http *h)
{
	struct node_http_guard *g = h->guard;
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->watchdog, NULL);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
	h->guard = NULL;
}

int node_http_start(struct node_http *h)
{
	const typeof(h->cfg->http) *c = &h->cfg->http;
	struct net_addr addr;
	if (net_addr_parse(&addr, c->bind_address, -1))
		return -EINVAL;
	int rc = guard_start(h);
	if (rc)
		return rc;
	int fd = sock_tcp_listen(&addr, false, 1024);
	if (fd < 0) {
		guard_stop(h);
		return fd;
	}
	unsigned idle_s = (unsigned)((c->idle_timeout_ns + NYM_NS_PER_SEC - 1) / NYM_NS_PER_SEC);
	h->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)c->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)c->max_connections_per_address, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
		MHD_OPTION_NOTIFY_CONNECTION, connection_event, h->guard, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		guard_stop(h);
		return -EIO;
	}
	return 0;
}

void node_http_stop(struct node_http *h)
{
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
	guard_stop(h);
}
