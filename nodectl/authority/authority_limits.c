/* The authority's limits (docs/ARCHITECTURE.md, "Limits under hostile load"): the
 * per-address rate of POST /v1/nodes, the pages of GET /v1/nodes, the authority's signed
 * admission list (GET /v1/admissions) and the copies of the peers' lists the prober keeps
 * (directory/allowlist.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nodectl/authority/authority.h"
#include "directory/allowlist.h"
#include "http/http_client.h"
#include "net/net_addr.h"
#include "topology/body_sig.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/log.h"

/* A peer's list older than this is a replay, not news. */
#define ADMISSIONS_MAX_AGE_S 3600
#define ADMISSIONS_MAX_SKEW_S 300

int authority_limits_open(struct authority *a)
{
	const struct node_config *c = a->cfg;
	if (!c->authority.registrations_per_epoch || !c->authority.registration_burst ||
	    c->authority.registration_burst > UINT32_MAX)
		return -EINVAL;
	/* registrations_per_epoch tokens an epoch: one every epoch / rate. */
	uint64_t interval_ns = (uint64_t)a->clock.duration_s * NYM_NS_PER_SEC / c->authority.registrations_per_epoch;
	return nym_ratelimit_table_new(&a->reg_buckets, (size_t)c->authority.registration_sources,
				       interval_ns ? interval_ns : 1, (uint32_t)c->authority.registration_burst);
}

void authority_limits_close(struct authority *a)
{
	nym_ratelimit_table_free(a->reg_buckets);
	a->reg_buckets = NULL;
}

bool authority_registration_allowed(struct authority *a, const struct node_http_request *req)
{
	const union MHD_ConnectionInfo *ci =
		req->conn ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
	/* Let the prober's write in first (authority.h); 100 ms at most. */
	for (int i = 0; i < 100 && atomic_load(&a->prober_waiting); i++)
		nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
	if (!ci || !ci->client_addr)
		return true;
	uint8_t key[NET_ADDR_LIMIT_KEY_LEN];
	if (net_addr_limit_key(ci->client_addr, key))
		return true;
	pthread_mutex_lock(&a->http_lock);
	bool ok = nym_ratelimit_table_take(a->reg_buckets, key, nym_clock_now_ns());
	pthread_mutex_unlock(&a->http_lock);
	if (!ok) {
		atomic_fetch_add(&a->n.registrations_limited, 1);
		log_ratelimited(NYM_LOG_INFO, "authority: registrations from one address beyond its rate refused");
	}
	return ok;
}

void authority_get_admissions(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	(void)req;
	struct authority *a = ctx;
	char *body;
	size_t len;
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_allowlist_json(nym_registry_db(a->http_reg), a->keys.identity.public_key, &body, &len);
	pthread_mutex_unlock(&a->http_lock);
	if (rc) {
		node_http_error(rep, rc == -EBUSY ? 503 : 500, rc == -EBUSY ? "busy" : "internal error");
	} else {
		struct nym_body_sig sig;
		rep->status = 200;
		rep->body = body;
		rep->len = len;
		rep->content_type = "application/json";
		nym_body_sig_make(&a->keys.identity, NYM_BODY_LABEL_ADMISSIONS, nym_clock_unix_now(), body, len, &sig);
		nym_body_sig_format(&sig, rep->signature);
	}
	atomic_fetch_add(&a->n.http_requests, 1);
	if (rep->status >= 400)
		atomic_fetch_add(&a->n.http_refused, 1);
}

void authority_merge_admissions(struct authority *a)
{
	struct nym_http_batch_item items[NYM_AUTHORITIES_MAX];
	if (!a->npeers || authority_fetch_peers(a, "/v1/admissions", NYM_ALLOWLIST_JSON_MAX, 3000, items))
		return;
	int64_t now = nym_clock_unix_now();
	for (size_t i = 0; i < a->npeers; i++) {
		struct nym_http_response *r = &items[i].resp;
		struct nym_body_sig sig;
		size_t taken;
		const char *why = NULL;
		if (items[i].rc || r->status != 200)
			why = NULL; /* down or busy: keep what we have of its list */
		else if (!r->signature[0] || nym_body_sig_parse(r->signature, strlen(r->signature), &sig) ||
			 memcmp(sig.authority, a->peers[i].key, 32) != 0 ||
			 !nym_body_sig_valid(&sig, NYM_BODY_LABEL_ADMISSIONS, r->body, r->len))
			why = "not signed by that authority";
		else if (sig.created < now - ADMISSIONS_MAX_AGE_S || sig.created > now + ADMISSIONS_MAX_SKEW_S)
			why = "signed too long ago or in the future";
		else if (nym_allowlist_merge(nym_registry_db(a->probe_reg), a->peers[i].key, r->body, r->len, &taken))
			why = "malformed or not stored";
		else
			atomic_fetch_add(&a->n.admission_lists, 1);
		if (why)
			log_ratelimited(NYM_LOG_WARN, "authority: admission list of %s refused: %s", a->peers[i].url, why);
		nym_http_response_free(r);
	}
}

int authority_page_params(const struct authority *a, const char *after_text, const char *limit_text,
			  uint8_t after[32], uint64_t *limit)
{
	uint64_t page = a->cfg->authority.nodes_page_size;
	*limit = page;
	if (after_text && nym_base58_decode_exact(after, 32, after_text))
		return -EINVAL;
	if (limit_text) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(limit_text, &end, 10);
		if (errno || end == limit_text || *end || limit_text[0] < '0' || limit_text[0] > '9' || v < 1 || v > page)
			return -EINVAL;
		*limit = v;
	}
	return 0;
}

/* One peer's registry, page by page, each page merged as it comes. */
static void merge_peer_nodes(struct authority *a, const struct authority_peer *p)
{
	char path[128], url[CONF_STR_MAX + 160], after[64] = "";
	size_t added = 0;
	/* Enough pages for a full registry, and no more: a peer cannot keep us here. */
	uint64_t pages = a->cfg->authority.max_registered_nodes / a->cfg->authority.nodes_page_size + 2;
	for (uint64_t i = 0; i < pages; i++) {
		struct nym_http_response r;
		size_t got = 0;
		snprintf(path, sizeof(path), after[0] ? "/v1/nodes?after=%s" : "/v1/nodes", after);
		if (nym_http_url(url, sizeof(url), p->url, path))
			return;
		struct nym_http_request req = { .url = url, .max_response = NYM_REGISTRY_LIST_MAX, .timeout_ms = 3000 };
		if (nym_http_request(&req, &r))
			break;
		if (r.status != 200 || nym_registry_merge(a->probe_reg, r.body, r.len, nym_clock_unix_now(), &got) != 0) {
			nym_http_response_free(&r);
			break;
		}
		added += got;
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		const char *next = json_string_value(json_object_get(j, "next"));
		bool more = next && strlen(next) < sizeof(after) && strcmp(next, after) != 0;
		if (more)
			snprintf(after, sizeof(after), "%s", next);
		json_decref(j);
		nym_http_response_free(&r);
		if (!more)
			break;
	}
	if (added) {
		atomic_fetch_add(&a->n.peer_merges, added);
		log_debug("authority: %zu descriptions learnt from %s", added, p->url);
	}
}

void authority_merge_peer_nodes(struct authority *a)
{
	for (size_t i = 0; i < a->npeers && !atomic_load(&a->stopping); i++)
		merge_peer_nodes(a, &a->peers[i]);
}
