#include "node_http.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "io/sock.h"
#include "util/array.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/log.h"

static json_t *b58(const uint8_t *key)
{
	char text[64];
	nym_base58_encode(text, sizeof(text), key, 32);
	return json_string(text);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
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
			 "commit_sha", NYM_COMMIT, "build_timestamp", __DATE__ " " __TIME__, "c_compiler", __VERSION__);
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

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct node_http_reply *rep)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(rep->len, rep->body ? rep->body : (char *)"",
								  rep->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(rep->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", rep->content_type ? rep->content_type : "application/json");
	if (rep->signature[0])
		MHD_add_response_header(r, "X-Nym-Signature", rep->signature);
	enum MHD_Result rc = MHD_queue_response(conn, rep->status, r);
	MHD_destroy_response(r);
	return rc;
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

static void completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	(void)why;
	struct request *rq = *state;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*state = NULL;
}

int node_http_start(struct node_http *h)
{
	struct net_addr addr;
	if (net_addr_parse(&addr, h->cfg->http.bind_address, -1))
		return -EINVAL;
	int fd = sock_tcp_listen(&addr, false, 128);
	if (fd < 0)
		return fd;
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handle, h,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 256u,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		return -EIO;
	}
	return 0;
}

void node_http_stop(struct node_http *h)
{
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}
