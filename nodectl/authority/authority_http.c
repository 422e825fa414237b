/* The authority's HTTP API (docs/PROTOCOLS.md §7.8). Handlers run on the libmicrohttpd threads
 * with their own database handles under one lock, except ticketbook issuance (an issuer per
 * thread, so RSA signing holds nothing others wait for); each is "body in, status and body
 * out" around an engine from lib/. Answers the same for everyone are cached until their
 * database changes. Errors are {"error": message}. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodectl/authority/authority.h"
#include "cred/issue.h"
#include "cred/issuer_keyset.h"
#include "cred/spent_report.h"
#include "store/db.h"
#include "topology/body_sig.h"
#include "topology/canonical.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"

static void take(struct node_http_reply *rep, int status, char *body, size_t len, const char *type)
{
	rep->status = (unsigned)status;
	rep->body = body;
	rep->len = len;
	rep->content_type = type;
}

static void count(struct authority *a, const struct node_http_reply *rep)
{
	atomic_fetch_add(&a->n.http_requests, 1);
	if (rep->status >= 400)
		atomic_fetch_add(&a->n.http_refused, 1);
}

/* The answer of an engine that returns an HTTP status and a JSON body, or an error of its own. */
static void answer(struct authority *a, struct node_http_reply *rep, int rc, int status, char *body, size_t len)
{
	if (rc)
		node_http_error(rep, 500, "internal error");
	else
		take(rep, status, body, len, "application/json");
	count(a, rep);
}

/* The epoch number at the end of a path ("/v1/topology/42"): digits only, 1..2^53. */
static bool path_epoch(const char *url, const char *prefix, uint64_t *epoch)
{
	const char *p = url + strlen(prefix);
	size_t n = strlen(p);
	if (n == 0 || n > 16)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v < 1 || v > (1ull << 53))
		return false;
	*epoch = v;
	return true;
}

static void post_nodes(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	int status;
	char *body = NULL;
	size_t len = 0;
	if (!authority_registration_allowed(a, req)) {
		node_http_error(rep, 429, "too many registrations from this address; try again later");
		count(a, rep);
		return;
	}
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_registry_handle_post(a->http_reg, req->body ? req->body : "", req->body_len, nym_clock_unix_now(),
					  &status, &body, &len);
	pthread_mutex_unlock(&a->http_lock);
	answer(a, rep, rc, status, body, len);
}

/* A page of the node list (after NULL: the first). */
static void nodes_page(struct authority *a, const uint8_t *after, uint64_t limit, struct node_http_reply *rep)
{
	char *body;
	size_t len;
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_registry_nodes_json(a->http_reg, after, (size_t)limit, &body, &len);
	pthread_mutex_unlock(&a->http_lock);
	if (rc)
		node_http_error(rep, rc == -EBUSY ? 503 : 500, rc == -EBUSY ? "busy" : "internal error");
	else
		take(rep, 200, body, len, "application/json");
}

static void build_nodes(void *ctx, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	nodes_page(a, NULL, a->cfg->authority.nodes_page_size, rep);
}

/* Answers with build's answer, from the cache while `watch`'s database has not changed and
 * `period` is the same; built afresh when the change counter cannot be read. */
static void cached(struct authority *a, struct node_http_cache *cache, struct sqlite3 *watch, uint64_t period,
		   node_http_handler_fn build, struct node_http_reply *rep)
{
	uint64_t version;
	if (nym_db_data_version(watch, &version))
		build(a, rep);
	else
		node_http_cached(cache, version, period, build, a, rep);
}

static void get_nodes(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	uint8_t after[32];
	uint64_t limit;
	const char *after_text = node_http_query(req, "after"), *limit_text = node_http_query(req, "limit");
	if (authority_page_params(a, after_text, limit_text, after, &limit))
		node_http_error(rep, 400, "expected after=IDENTITY (base58) and limit=N (1 up to the page size)");
	else if (after_text || limit_text) /* later pages: built per request */
		nodes_page(a, after_text ? after : NULL, limit, rep);
	else
		cached(a, &a->cache_nodes, a->watch_reg, 0, build_nodes, rep);
	count(a, rep);
}

/* The signed document of `epoch` (0: the latest up to the current epoch). */
static void send_document(struct authority *a, uint64_t epoch, struct node_http_reply *rep)
{
	char *body;
	size_t len;
	int rc;
	pthread_mutex_lock(&a->http_lock);
	if (epoch == 0) {
		rc = nym_registry_latest_document(a->http_reg, nym_epoch_at(&a->clock, nym_clock_unix_now()), &epoch);
		if (!rc)
			rc = nym_registry_signed_document(a->http_reg, epoch, &body, &len);
	} else {
		rc = nym_registry_signed_document(a->http_reg, epoch, &body, &len);
	}
	pthread_mutex_unlock(&a->http_lock);
	if (rc == -ENOENT)
		node_http_error(rep, 404, "no document for that epoch");
	else if (rc)
		node_http_error(rep, rc == -EBUSY ? 503 : 500, rc == -EBUSY ? "busy" : "internal error");
	else
		take(rep, 200, body, len, "application/json");
}

static void build_topology(void *ctx, struct node_http_reply *rep)
{
	send_document(ctx, 0, rep);
}

static void get_topology(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	(void)req;
	struct authority *a = ctx;
	cached(a, &a->cache_topology, a->watch_reg, nym_epoch_at(&a->clock, nym_clock_unix_now()), build_topology, rep);
	count(a, rep);
}

static void get_topology_epoch(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	uint64_t epoch;
	if (!path_epoch(req->url, "/v1/topology/", &epoch))
		node_http_error(rep, 400, "expected /v1/topology/EPOCH with EPOCH a number from 1");
	else
		send_document(ctx, epoch, rep);
	count(ctx, rep);
}

static void get_votes(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	uint64_t epoch;
	char *body;
	size_t len;
	if (!path_epoch(req->url, "/v1/votes/", &epoch)) {
		node_http_error(rep, 400, "expected /v1/votes/EPOCH with EPOCH a number from 1");
	} else {
		pthread_mutex_lock(&a->http_lock);
		int rc = nym_registry_votes_json(a->http_reg, epoch, &body, &len);
		pthread_mutex_unlock(&a->http_lock);
		if (rc)
			node_http_error(rep, 500, "internal error");
		else
			take(rep, 200, body, len, "application/json");
	}
	count(a, rep);
}

/* The served document (as get_topology), parsed. */
static int current_document(struct authority *a, struct nym_epoch_doc *doc, size_t *signatures)
{
	uint64_t epoch;
	char *bytes;
	size_t len;
	struct nym_epoch_doc_signatures sigs;
	nym_epoch_doc_init(doc);
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_registry_latest_document(a->http_reg, nym_epoch_at(&a->clock, nym_clock_unix_now()), &epoch);
	if (!rc)
		rc = nym_registry_document(a->http_reg, epoch, &bytes, &len, NULL, NULL);
	if (!rc)
		nym_registry_signatures(a->http_reg, epoch, &sigs);
	pthread_mutex_unlock(&a->http_lock);
	if (rc)
		return rc;
	json_t *j;
	rc = nym_canonical_parse(bytes, len, NYM_EPOCH_DOC_JSON_MAX, &j);
	if (!rc) {
		rc = nym_epoch_doc_from_json(j, doc);
		json_decref(j);
	}
	if (signatures) {
		size_t valid = 0;
		nym_epoch_doc_verify(&sigs, bytes, len, (const uint8_t(*)[32])a->trusted, a->nauth, 1, &valid);
		*signatures = valid;
	}
	free(bytes);
	return rc;
}

static void get_gateways(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	const char *role = node_http_query(req, "role"), *country = node_http_query(req, "country");
	struct nym_epoch_doc_gateway_query q = { 0 };
	unsigned bit;
	if (role && (nym_descriptor_role_parse(role, &bit) || bit == NYM_ROLE_MIXNODE)) {
		node_http_error(rep, 400, "role must be entry, exit or wg");
		goto out;
	}
	q.roles = role ? bit : 0;
	if (country) {
		if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z') {
			node_http_error(rep, 400, "country must be a two-letter code in capitals, such as DE");
			goto out;
		}
		memcpy(q.country, country, 3);
	}
	struct nym_epoch_doc doc;
	int rc = current_document(a, &doc, NULL);
	if (rc) {
		node_http_error(rep, rc == -ENOENT ? 404 : 500, rc == -ENOENT ? "no document yet" : "internal error");
		goto out;
	}
	json_t *list = json_array();
	for (size_t i = 0; list && i < doc.gateway_count; i++) {
		const struct nym_descriptor *d = &doc.gateways[i].d;
		if ((d->roles & q.roles) != q.roles || (q.country[0] && strcmp(q.country, d->country) != 0))
			continue;
		json_array_append_new(list, nym_descriptor_signed_to_json(&doc.gateways[i]));
	}
	node_http_json(rep, 200, list ? json_pack("{s:I, s:o}", "epoch", (json_int_t)doc.epoch, "gateways", list) : NULL);
	nym_epoch_doc_free(&doc);
out:
	count(a, rep);
}

/* /v1/epoch for the current epoch `epoch`: what it shows changes only with the epoch and the
 * registry (documents and signatures). */
static void build_epoch(void *ctx, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	uint64_t epoch = nym_epoch_at(&a->clock, nym_clock_unix_now());
	json_t *docj = json_null();
	struct nym_epoch_doc doc;
	size_t sigs;
	if (current_document(a, &doc, &sigs) == 0) {
		uint8_t digest[32];
		char hex[65];
		nym_epoch_doc_encode(&doc, NULL, NULL, digest);
		nym_hex_encode(hex, digest, 32);
		json_decref(docj);
		docj = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "epoch", (json_int_t)doc.epoch, "digest", hex,
				 "signatures", (json_int_t)sigs, "threshold", (json_int_t)a->threshold, "mixnodes",
				 (json_int_t)(doc.layer_count[0] + doc.layer_count[1] + doc.layer_count[2]), "gateways",
				 (json_int_t)doc.gateway_count, "valid_from", (json_int_t)doc.valid_from, "valid_until",
				 (json_int_t)doc.valid_until);
		nym_epoch_doc_free(&doc);
	}
	node_http_json(rep, 200,
		       json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "epoch", (json_int_t)epoch, "start",
				 (json_int_t)nym_epoch_start(&a->clock, epoch), "end",
				 (json_int_t)nym_epoch_start(&a->clock, epoch + 1), "duration",
				 (json_int_t)a->clock.duration_s, "genesis", (json_int_t)a->clock.genesis, "authorities",
				 (json_int_t)a->nauth, "document", docj));
}

static void get_epoch(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	(void)req;
	struct authority *a = ctx;
	cached(a, &a->cache_epoch, a->watch_reg, nym_epoch_at(&a->clock, nym_clock_unix_now()), build_epoch, rep);
	count(a, rep);
}

static void sign_body(struct authority *a, struct node_http_reply *rep, const char *label)
{
	struct nym_body_sig sig;
	nym_body_sig_make(&a->keys.identity, label, nym_clock_unix_now(), rep->body, rep->len, &sig);
	nym_body_sig_format(&sig, rep->signature);
}

static void build_issuer_keys(void *ctx, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	struct nym_issuer_keyset ks;
	char *json = NULL;
	nym_issuer_keyset_init(&ks);
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_issuer_keys(a->http_iss, nym_clock_unix_now(), &ks);
	pthread_mutex_unlock(&a->http_lock);
	if (!rc)
		rc = nym_issuer_keyset_to_json(&ks, &json);
	nym_issuer_keyset_clear(&ks);
	if (rc) {
		node_http_error(rep, rc == -EBUSY ? 503 : 500, rc == -EBUSY ? "busy" : "internal error");
	} else {
		take(rep, 200, json, strlen(json), "application/json");
		sign_body(a, rep, NYM_BODY_LABEL_ISSUER_KEYS);
	}
}

/* Signed again every ISSUER_KEYS_RESIGN_S, well within the age readers accept (an hour). */
#define ISSUER_KEYS_RESIGN_S 600

static void get_issuer_keys(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	(void)req;
	struct authority *a = ctx;
	cached(a, &a->cache_issuer_keys, a->watch_iss, (uint64_t)nym_clock_unix_now() / ISSUER_KEYS_RESIGN_S,
	       build_issuer_keys, rep);
	count(a, rep);
}

static void post_ticketbooks(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	int status;
	char *body = NULL;
	size_t len = 0;
	/* A free issuer if there is one; there is, unless more issuers than HTTP threads. */
	struct authority_issuer *is = NULL;
	for (size_t i = 0; !is && i < a->nissuers; i++)
		if (pthread_mutex_trylock(&a->issuers[i].lock) == 0)
			is = &a->issuers[i];
	if (!is) {
		is = &a->issuers[0];
		pthread_mutex_lock(&is->lock);
	}
	int rc = nym_issuer_handle_ticketbooks(is->iss, req->body ? req->body : "", req->body_len, nym_clock_unix_now(),
					       &status, &body, &len);
	pthread_mutex_unlock(&is->lock);
	answer(a, rep, rc, status, body, len);
}

static bool is_gateway(void *ctx, const uint8_t pub[NYM_ED25519_PUBLIC_LEN])
{
	struct authority *a = ctx;
	return nym_registry_is_gateway(a->http_reg, pub); /* called under http_lock */
}

static void post_spent(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	struct authority *a = ctx;
	int status;
	char *body = NULL;
	size_t len = 0;
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_spent_merge_handle_report(a->http_spent, (const uint8_t *)(req->body ? req->body : ""),
					       req->body_len, nym_clock_unix_now(), is_gateway, a, &status, &body, &len);
	pthread_mutex_unlock(&a->http_lock);
	answer(a, rep, rc, status, body, len);
}

static void get_spent_filter(void *ctx, const struct node_http_request *req, struct node_http_reply *rep)
{
	(void)req;
	struct authority *a = ctx;
	uint8_t *data;
	size_t len;
	pthread_mutex_lock(&a->http_lock);
	int rc = nym_spent_merge_filter(a->http_spent, nym_clock_unix_now(), NYM_SPENT_FILTER_FPR, &data, &len);
	pthread_mutex_unlock(&a->http_lock);
	if (rc) {
		node_http_error(rep, rc == -EBUSY ? 503 : 500, rc == -EBUSY ? "busy" : "internal error");
	} else {
		take(rep, 200, (char *)data, len, "application/octet-stream");
		sign_body(a, rep, NYM_BODY_LABEL_SPENT_FILTER);
	}
	count(a, rep);
}

const struct node_http_route authority_routes[] = {
	{ "POST", "/v1/nodes", NYM_REGISTRY_POST_MAX, post_nodes },
	{ "GET", "/v1/nodes", 0, get_nodes },
	{ "GET", "/v1/topology", 0, get_topology },
	{ "GET", "/v1/topology/", 0, get_topology_epoch },
	{ "GET", "/v1/votes/", 0, get_votes },
	{ "GET", "/v1/gateways", 0, get_gateways },
	{ "GET", "/v1/epoch", 0, get_epoch },
	{ "GET", "/v1/issuer-keys", 0, get_issuer_keys },
	{ "POST", "/v1/ticketbooks", NYM_ISSUE_BODY_MAX, post_ticketbooks },
	{ "POST", "/v1/spent", NYM_SPENT_REPORT_MAX_LEN, post_spent },
	{ "GET", "/v1/spent-filter", 0, get_spent_filter },
	{ "GET", "/v1/admissions", 0, authority_get_admissions },
	{ 0 },
};

char *authority_metrics(void *ctx)
{
	struct authority *a = ctx;
	struct nym_registry_stats rs = { 0 };
	struct nym_issuer_stats is = { 0 };
	uint64_t serials = 0, doubles = 0;
	size_t sigs = 0;
	uint64_t doc_epoch = 0;
	struct nym_epoch_doc doc;
	if (current_document(a, &doc, &sigs) == 0) {
		doc_epoch = doc.epoch;
		nym_epoch_doc_free(&doc);
	}
	pthread_mutex_lock(&a->http_lock);
	nym_registry_stats(a->http_reg, &rs);
	nym_issuer_stats(a->http_iss, &is);
	nym_spent_merge_counts(a->http_spent, &serials, &doubles);
	pthread_mutex_unlock(&a->http_lock);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
#define G(name, help, v)                                                                                               \
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name, (unsigned long long)(v))
#define C(name, help, field)                                                                                           \
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,                             \
		(unsigned long long)atomic_load(&a->n.field))
	G("nym_authority_registered_nodes", "nodes in the registry", rs.nodes);
	G("nym_authority_registered_gateways", "gateways in the registry", rs.gateways);
	G("nym_authority_document_epoch", "epoch of the document served", doc_epoch);
	G("nym_authority_document_signatures", "valid authority signatures on the document served", sigs);
	G("nym_authority_vouchers_unused", "vouchers not yet redeemed", is.vouchers_unused);
	G("nym_authority_vouchers_redeemed", "vouchers redeemed", is.vouchers_redeemed);
	G("nym_authority_issuer_keys", "issuer public keys listed", is.keys);
	G("nym_authority_spent_serials", "spent serials known (unexpired)", serials);
	G("nym_authority_double_spent_serials", "serials spent at more than one gateway", doubles);
	C("nym_authority_votes_made", "votes cast", votes_made);
	C("nym_authority_votes_received", "votes of other authorities taken", votes_received);
	C("nym_authority_documents_built", "documents built and signed", documents_built);
	C("nym_authority_documents_adopted", "documents taken from other authorities", documents_adopted);
	C("nym_authority_signatures_received", "other authorities' signatures gathered", signatures_received);
	C("nym_authority_probe_rounds", "rounds of reachability probes", probe_rounds);
	C("nym_authority_probes_failed", "nodes that did not answer a round", probes_failed);
	C("nym_authority_peer_descriptions", "descriptions learnt from other authorities", peer_merges);
	C("nym_authority_http_requests", "API requests answered", http_requests);
	C("nym_authority_http_refused", "API requests answered with an error", http_refused);
	C("nym_authority_registrations_limited", "registrations refused for their source address's rate", registrations_limited);
	C("nym_authority_admission_lists", "admission lists taken from other authorities", admission_lists);
#undef G
#undef C
	fclose(f);
	return text;
}
