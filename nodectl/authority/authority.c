/* The authority's main thread: setup, issuer key rotation and the epoch work (vote, gather
 * votes, build and sign, gather signatures or adopt). See authority.h. */
#include "nodectl/authority/authority.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/sha256.h"
#include "directory/address_limit.h"
#include "http/http_client.h"
#include "mixnode/key_rotation.h"
#include "nodectl/node/node_notify.h"
#include "store/db.h"
#include "topology/canonical.h"
#include "topology/vote.h"
#include "util/base58.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/signals.h"

#define TICK_MS 200
#define SIG_FETCH_INTERVAL_MS 500
#define VOTE_FETCH_INTERVAL_MS 250
#define ROTATE_INTERVAL_S 600
#define KEEP_EPOCHS 24

/* Peers that do not answer must not hold up the epoch work: an eighth of an epoch at most. */
static long peer_timeout_ms(const struct authority *a)
{
	long t = (long)a->clock.duration_s * 125;
	return t < 2000 ? t : 2000;
}

int authority_fetch_peers(struct authority *a, const char *path, size_t max, long timeout_ms,
			  struct nym_http_batch_item *items)
{
	static _Thread_local char urls[NYM_AUTHORITIES_MAX][CONF_STR_MAX + 64];
	for (size_t i = 0; i < a->npeers; i++) {
		nym_http_url(urls[i], sizeof(urls[i]), a->peers[i].url, path);
		items[i] = (struct nym_http_batch_item){ .url = urls[i] };
	}
	return nym_http_get_many(items, a->npeers, max, timeout_ms);
}

static bool trusted(const struct authority *a, const uint8_t key[32])
{
	for (size_t i = 0; i < a->nauth; i++)
		if (memcmp(a->trusted[i], key, 32) == 0)
			return true;
	return false;
}

static void short_key(const uint8_t key[32], char out[12])
{
	char b58[64];
	nym_base58_encode(b58, sizeof(b58), key, 32);
	snprintf(out, 12, "%.8s", b58);
}

/* --- Votes ---------------------------------------------------------------------------- */

static bool vote_fits(const struct authority *a, const struct nym_vote *v, uint64_t epoch)
{
	return v->epoch == epoch && v->valid_from == nym_epoch_start(&a->clock, epoch) &&
	       v->valid_until == nym_epoch_start(&a->clock, epoch + 1) && trusted(a, v->authority);
}

static int by_identity(const void *x, const void *y)
{
	return memcmp(((const struct nym_descriptor_signed *)x)->d.identity,
		      ((const struct nym_descriptor_signed *)y)->d.identity, 32);
}

static void make_vote(struct authority *a, uint64_t epoch, int64_t now)
{
	struct nym_vote v = { 0 };
	int64_t since = now - (int64_t)(a->cfg->authority.reachable_window_ns / NYM_NS_PER_SEC);
	uint8_t digest[32];
	int rc = nym_registry_reachable(a->reg, since, &v.nodes, &v.node_count);
	if (rc) {
		log_error("authority: cannot read the registry to vote: %s", strerror(-rc));
		return;
	}
	/* A node announces every epoch and at every key rotation: a description older than two
	 * epochs, or without the key of the rotation the epoch starts in, is not current. */
	struct key_rotation_schedule sched = { a->clock.genesis, (uint64_t)a->clock.duration_s,
					   (uint32_t)a->cfg->sphinx.epochs_per_rotation };
	uint32_t rotation = key_rotation_id_at(&sched, nym_epoch_start(&a->clock, epoch));
	size_t kept = 0;
	for (size_t i = 0; i < v.node_count; i++) {
		const struct nym_descriptor *d = &v.nodes[i].d;
		bool has_key = false;
		for (size_t k = 0; k < d->sphinx_count; k++)
			has_key |= d->sphinx[k].rotation == rotation;
		if (d->published >= now - 2 * a->clock.duration_s && has_key)
			v.nodes[kept++] = v.nodes[i];
	}
	v.node_count = kept;
	/* The list came longest reachable first: that is who keeps a crowded address. */
	if ((rc = nym_address_limit(v.nodes, &v.node_count, (size_t)a->cfg->authority.max_nodes_per_address)) != 0) {
		log_error("authority: cannot apply the per-address limit: %s", strerror(-rc));
		nym_vote_free(&v);
		return;
	}
	if (v.node_count < kept)
		log_info("authority: epoch %" PRIu64 ": %zu nodes left out beyond %llu per address", epoch,
			 kept - v.node_count, (unsigned long long)a->cfg->authority.max_nodes_per_address);
	if (v.node_count > 1)
		qsort(v.nodes, v.node_count, sizeof(*v.nodes), by_identity);
	v.epoch = epoch;
	v.valid_from = nym_epoch_start(&a->clock, epoch);
	v.valid_until = nym_epoch_start(&a->clock, epoch + 1);
	if (nym_registry_document(a->reg, epoch - 1, NULL, NULL, digest, NULL) == 0) {
		v.has_previous = true;
		memcpy(v.previous, digest, 32);
	}
	rc = nym_vote_sign(&v, &a->keys.identity);
	if (!rc)
		rc = nym_registry_put_vote(a->reg, &v, now);
	if (rc && rc != -EEXIST)
		log_error("authority: cannot record the vote for epoch %" PRIu64 ": %s", epoch, strerror(-rc));
	else {
		atomic_fetch_add(&a->n.votes_made, 1);
		log_info("authority: voted for epoch %" PRIu64 " with %zu reachable nodes", epoch, v.node_count);
	}
	nym_vote_free(&v);
}

/* Takes every vote the peers hold for the epoch (their own and those they relay). */
static void gather_votes(struct authority *a, uint64_t epoch, int64_t now)
{
	struct nym_http_batch_item items[NYM_AUTHORITIES_MAX];
	char path[64];
	snprintf(path, sizeof(path), "/v1/votes/%" PRIu64, epoch);
	if (authority_fetch_peers(a, path, NYM_VOTE_JSON_MAX * 2, peer_timeout_ms(a), items))
		return;
	for (size_t i = 0; i < a->npeers; i++) {
		if (items[i].rc || items[i].resp.status != 200) {
			nym_http_response_free(&items[i].resp);
			continue;
		}
		json_t *j = json_loadb(items[i].resp.body, items[i].resp.len, JSON_REJECT_DUPLICATES, NULL);
		json_t *list = json_object_get(j, "votes");
		for (size_t k = 0; json_is_array(list) && k < json_array_size(list) && k < NYM_AUTHORITIES_MAX; k++) {
			struct nym_vote v;
			if (nym_vote_from_json(json_array_get(list, k), &v) != 0)
				continue;
			if (vote_fits(a, &v, epoch) && nym_registry_put_vote(a->reg, &v, now) == 0) {
				char who[12];
				short_key(v.authority, who);
				atomic_fetch_add(&a->n.votes_received, 1);
				log_debug("authority: vote of %s for epoch %" PRIu64 " (%zu nodes)", who, epoch,
					  v.node_count);
			}
			nym_vote_free(&v);
		}
		json_decref(j);
		nym_http_response_free(&items[i].resp);
	}
}

/* --- Documents ------------------------------------------------------------------------ */

/* The document of `epoch` whose digest is `digest`: ours, or a peer's (kept if we had none). */
static int previous_document(struct authority *a, uint64_t epoch, const uint8_t digest[32], struct nym_epoch_doc *doc)
{
	char *bytes = NULL;
	size_t len;
	uint8_t have[32];
	if (nym_registry_document(a->reg, epoch, &bytes, &len, have, NULL) == 0 && memcmp(have, digest, 32) == 0) {
		json_t *j;
		int rc = nym_canonical_parse(bytes, len, NYM_EPOCH_DOC_JSON_MAX, &j);
		if (!rc) {
			rc = nym_epoch_doc_from_json(j, doc);
			json_decref(j);
		}
		free(bytes);
		return rc;
	}
	free(bytes);
	struct nym_http_batch_item items[NYM_AUTHORITIES_MAX];
	char path[64];
	int found = -ENOENT;
	snprintf(path, sizeof(path), "/v1/topology/%" PRIu64, epoch);
	if (authority_fetch_peers(a, path, NYM_EPOCH_DOC_JSON_MAX + 65536, peer_timeout_ms(a), items))
		return -ENOMEM;
	for (size_t i = 0; i < a->npeers; i++) {
		struct nym_epoch_doc_signatures sigs;
		char *canonical;
		size_t clen;
		uint8_t d[32];
		struct nym_epoch_doc got;
		if (found != 0 && items[i].rc == 0 && items[i].resp.status == 200 &&
		    nym_epoch_doc_signed_decode(items[i].resp.body, items[i].resp.len, &got, &sigs, &canonical, &clen, d) == 0) {
			if (memcmp(d, digest, 32) == 0 && got.epoch == epoch) {
				*doc = got;
				found = 0;
				if (nym_registry_document(a->reg, epoch, NULL, NULL, NULL, NULL) == -ENOENT)
					nym_registry_put_document(a->reg, epoch, canonical, clen, false);
			} else {
				nym_epoch_doc_free(&got);
			}
			free(canonical);
		}
		nym_http_response_free(&items[i].resp);
	}
	return found;
}

static void build(struct authority *a, uint64_t epoch)
{
	struct nym_vote *votes = NULL;
	size_t n = 0, used = 0;
	const struct nym_vote *use[NYM_AUTHORITIES_MAX];
	bool own = false, has_prev;
	uint8_t prev_digest[32], digest[32];
	struct nym_epoch_doc prev, doc;
	char *bytes = NULL;
	size_t len;
	nym_epoch_doc_init(&prev);
	nym_epoch_doc_init(&doc);
	int rc = nym_registry_votes(a->reg, epoch, &votes, &n);
	if (rc) {
		log_error("authority: cannot read the votes for epoch %" PRIu64 ": %s", epoch, strerror(-rc));
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (vote_fits(a, &votes[i], epoch)) {
			use[used++] = &votes[i];
			own |= memcmp(votes[i].authority, a->keys.identity.public_key, 32) == 0;
		}
	if (!own || used < a->threshold) {
		log_warn("authority: epoch %" PRIu64 ": %zu of %zu votes (%zu needed%s); not building", epoch, used,
			 a->nauth, a->threshold, own ? "" : ", ours missing");
		goto out;
	}
	nym_vote_consensus_previous(use, used, &has_prev, prev_digest);
	if (has_prev && (rc = previous_document(a, epoch - 1, prev_digest, &prev)) != 0) {
		log_warn("authority: epoch %" PRIu64 ": the previous document the votes name is not available; "
			 "abstaining", epoch);
		goto out;
	}
	if ((rc = nym_vote_consensus_build(use, used, has_prev ? &prev : NULL, has_prev ? prev_digest : NULL, &doc)) != 0 ||
	    (rc = nym_epoch_doc_encode(&doc, &bytes, &len, digest)) != 0 ||
	    (rc = nym_registry_put_document(a->reg, epoch, bytes, len, true)) != 0) {
		log_error("authority: building the document for epoch %" PRIu64 " failed: %s", epoch, strerror(-rc));
		goto out;
	}
	struct nym_epoch_doc_signature sig;
	nym_epoch_doc_sign(&a->keys.identity, bytes, len, &sig);
	if ((rc = nym_registry_add_signature(a->reg, epoch, &sig)) != 0) {
		log_error("authority: cannot store our signature for epoch %" PRIu64 ": %s", epoch, strerror(-rc));
		goto out;
	}
	atomic_fetch_add(&a->n.documents_built, 1);
	char hex[17];
	nym_hex_encode(hex, digest, 8);
	log_info("authority: epoch %" PRIu64 " document %s signed: %zu votes, layers %zu/%zu/%zu, %zu gateways", epoch,
		 hex, used, doc.layer_count[0], doc.layer_count[1], doc.layer_count[2], doc.gateway_count);
out:
	free(bytes);
	nym_epoch_doc_free(&doc);
	nym_epoch_doc_free(&prev);
	for (size_t i = 0; i < n; i++)
		nym_vote_free(&votes[i]);
	free(votes);
}

static size_t valid_count(const struct authority *a, const struct nym_epoch_doc_signatures *sigs, const char *bytes,
			  size_t len)
{
	size_t valid = 0;
	nym_epoch_doc_verify(sigs, bytes, len, (const uint8_t(*)[32])a->trusted, a->nauth, 1, &valid);
	return valid;
}

/* Adds the peers' signatures over our document of the epoch; adopts a peer's document that
 * k authorities signed when ours has fewer (or we have none). */
static void gather_signatures(struct authority *a, uint64_t epoch)
{
	char *ours = NULL;
	size_t ours_len = 0;
	uint8_t ours_digest[32];
	struct nym_epoch_doc_signatures have = { 0 };
	bool have_doc = nym_registry_document(a->reg, epoch, &ours, &ours_len, ours_digest, NULL) == 0;
	size_t have_valid = 0;
	if (have_doc) {
		nym_registry_signatures(a->reg, epoch, &have);
		have_valid = valid_count(a, &have, ours, ours_len);
		if (have_valid == a->nauth) {
			free(ours);
			return;
		}
	}
	struct nym_http_batch_item items[NYM_AUTHORITIES_MAX];
	char path[64];
	snprintf(path, sizeof(path), "/v1/topology/%" PRIu64, epoch);
	if (authority_fetch_peers(a, path, NYM_EPOCH_DOC_JSON_MAX + 65536, peer_timeout_ms(a), items)) {
		free(ours);
		return;
	}
	for (size_t i = 0; i < a->npeers; i++) {
		struct nym_epoch_doc doc;
		struct nym_epoch_doc_signatures sigs;
		char *canonical = NULL;
		size_t clen;
		uint8_t digest[32];
		if (items[i].rc || items[i].resp.status != 200 ||
		    nym_epoch_doc_signed_decode(items[i].resp.body, items[i].resp.len, &doc, &sigs, &canonical, &clen,
					  digest) != 0) {
			nym_http_response_free(&items[i].resp);
			continue;
		}
		if (doc.epoch == epoch && have_doc && memcmp(digest, ours_digest, 32) == 0) {
			for (size_t k = 0; k < sigs.count; k++) {
				const struct nym_epoch_doc_signature *s = &sigs.sigs[k];
				bool known = false;
				for (size_t h = 0; h < have.count && !known; h++)
					known = memcmp(have.sigs[h].authority, s->authority, 32) == 0;
				if (known || !trusted(a, s->authority) || !nym_epoch_doc_signature_valid(s, ours, ours_len))
					continue;
				if (nym_registry_add_signature(a->reg, epoch, s) == 0) {
					nym_epoch_doc_signatures_add(&have, s);
					have_valid++;
					atomic_fetch_add(&a->n.signatures_received, 1);
				}
			}
		} else if (doc.epoch == epoch) {
			size_t theirs = valid_count(a, &sigs, canonical, clen);
			if (theirs >= a->threshold && theirs > have_valid &&
			    nym_registry_put_document(a->reg, epoch, canonical, clen, false) == 0) {
				for (size_t k = 0; k < sigs.count; k++)
					if (trusted(a, sigs.sigs[k].authority) &&
					    nym_epoch_doc_signature_valid(&sigs.sigs[k], canonical, clen))
						nym_registry_add_signature(a->reg, epoch, &sigs.sigs[k]);
				log_warn("authority: epoch %" PRIu64 ": adopted the document %zu authorities signed "
					 "(ours had %zu signatures)",
					 epoch, theirs, have_valid);
				atomic_fetch_add(&a->n.documents_adopted, 1);
				free(ours);
				ours = canonical;
				canonical = NULL;
				ours_len = clen;
				memcpy(ours_digest, digest, 32);
				nym_registry_signatures(a->reg, epoch, &have);
				have_valid = theirs;
				have_doc = true;
			}
		}
		free(canonical);
		nym_epoch_doc_free(&doc);
		nym_http_response_free(&items[i].resp);
	}
	free(ours);
}

/* One pass of the epoch work at `now_ms`. */
static void epoch_work(struct authority *a, int64_t now_ms)
{
	int64_t now = now_ms / 1000;
	uint64_t current = nym_epoch_at(&a->clock, now), next = current + 1;
	int64_t vote_ms = nym_epoch_vote_ms(&a->clock, next), build_ms = nym_epoch_build_ms(&a->clock, next);
	if (now_ms >= vote_ms && now_ms < build_ms && a->voted < next) {
		make_vote(a, next, now);
		a->voted = next;
	}
	if (now_ms >= vote_ms && now_ms < build_ms && a->npeers && now_ms >= a->next_vote_fetch_ms &&
	    nym_registry_vote_count(a->reg, next) < a->nauth) {
		gather_votes(a, next, now);
		a->next_vote_fetch_ms = now_ms + VOTE_FETCH_INTERVAL_MS;
	}
	if (now_ms >= build_ms && a->built < next) {
		build(a, next);
		a->built = next;
	}
	if (a->npeers && now_ms >= a->next_sig_ms) {
		if (now_ms >= build_ms)
			gather_signatures(a, next);
		gather_signatures(a, current);
		a->next_sig_ms = now_ms + SIG_FETCH_INTERVAL_MS;
	}
}

/* --- Setup ---------------------------------------------------------------------------- */

static int setup_peers(struct authority *a)
{
	memcpy(a->trusted[0], a->keys.identity.public_key, 32);
	a->nauth = 1;
	for (size_t i = 0; i < a->cfg->authority.peers.count; i++) {
		struct authority_peer *p = &a->peers[a->npeers];
		if (node_config_peer(a->cfg->authority.peers.item[i], p->url, sizeof(p->url), p->key))
			return -EINVAL;
		if (trusted(a, p->key)) {
			fprintf(stderr, "%s: authority.peers lists key %s twice (or this node's own)\n", a->context,
				strchr(a->cfg->authority.peers.item[i], ' ') + 1);
			return -EINVAL;
		}
		memcpy(a->trusted[a->nauth++], p->key, 32);
		a->npeers++;
	}
	a->threshold = a->cfg->authority.threshold ? a->cfg->authority.threshold : a->nauth / 2 + 1;
	return 0;
}

static void rotate_issuer(struct authority *a, int64_t now)
{
	uint64_t t0 = nym_clock_now_ns();
	int rc = nym_issuer_rotate(a->iss, now);
	if (rc)
		log_error("authority: issuer key rotation failed: %s", strerror(-rc));
	else if (nym_clock_now_ns() - t0 > NYM_NS_PER_SEC / 10)
		log_info("authority: issuer keys ready (%.1f s)", (double)(nym_clock_now_ns() - t0) / 1e9);
	a->next_rotate = now + ROTATE_INTERVAL_S;
}

static int open_stores(struct authority *a)
{
	int rc;
	snprintf(a->registry_path, sizeof(a->registry_path), "%s/registry.db", a->data);
	snprintf(a->issuer_path, sizeof(a->issuer_path), "%s/issuer.db", a->data);
	snprintf(a->spent_path, sizeof(a->spent_path), "%s/spent.db", a->data);
	nym_registry_config_default(&a->reg_cfg);
	a->reg_cfg.max_age_s = (int64_t)(a->cfg->authority.descriptor_max_age_ns / NYM_NS_PER_SEC);
	a->reg_cfg.max_nodes = a->cfg->authority.max_registered_nodes;
	a->reg_cfg.allowlist = strcmp(a->cfg->authority.admission, "allowlist") == 0;
	nym_issuer_config_default(&a->iss_cfg);
	a->iss_cfg.key_bits = (unsigned)a->cfg->authority.issuer_key_bits;
	if ((rc = nym_registry_open(&a->reg, a->registry_path, &a->reg_cfg)) ||
	    (rc = nym_registry_open(&a->http_reg, a->registry_path, &a->reg_cfg)) ||
	    (rc = nym_registry_open(&a->probe_reg, a->registry_path, &a->reg_cfg))) {
		fprintf(stderr, "%s: %s: cannot open the registry: %s\n", a->context, a->registry_path, strerror(-rc));
		return rc;
	}
	if ((rc = nym_issuer_open(&a->iss, a->issuer_path, &a->iss_cfg)) ||
	    (rc = nym_issuer_open(&a->http_iss, a->issuer_path, &a->iss_cfg))) {
		fprintf(stderr, "%s: %s: cannot open the issuer database: %s\n", a->context, a->issuer_path,
			strerror(-rc));
		return rc;
	}
	a->nissuers = a->cfg->http.threads < AUTHORITY_ISSUERS_MAX ? a->cfg->http.threads : AUTHORITY_ISSUERS_MAX;
	for (size_t i = 0; i < a->nissuers; i++) {
		pthread_mutex_init(&a->issuers[i].lock, NULL);
		if ((rc = nym_issuer_open(&a->issuers[i].iss, a->issuer_path, &a->iss_cfg))) {
			fprintf(stderr, "%s: %s: cannot open the issuer database: %s\n", a->context, a->issuer_path,
				strerror(-rc));
			return rc;
		}
	}
	if ((rc = nym_db_watch_open(&a->watch_reg, a->registry_path)) ||
	    (rc = nym_db_watch_open(&a->watch_iss, a->issuer_path))) {
		fprintf(stderr, "%s: %s: cannot watch the databases: %s\n", a->context, a->data, strerror(-rc));
		return rc;
	}
	if ((rc = nym_spent_merge_open(&a->http_spent, a->spent_path))) {
		fprintf(stderr, "%s: %s: cannot open the spent database: %s\n", a->context, a->spent_path,
			strerror(-rc));
		return rc;
	}
	return 0;
}

int authority_run(const char *context, const struct node_config *cfg, const char *dir)
{
	static struct authority a;
	char err[CONF_ERROR_MAX];
	int status = EXIT_FAILURE;
	a.context = context;
	a.cfg = cfg;
	snprintf(a.data, sizeof(a.data), "%s/data", dir);
	a.clock = (struct nym_epoch_clock){ (int64_t)cfg->sphinx.genesis,
					    (int64_t)(cfg->sphinx.epoch_duration_ns / NYM_NS_PER_SEC) };
	pthread_mutex_init(&a.http_lock, NULL);
	pthread_mutex_init(&a.http.lock, NULL);
	node_http_cache_init(&a.cache_nodes);
	node_http_cache_init(&a.cache_topology);
	node_http_cache_init(&a.cache_epoch);
	node_http_cache_init(&a.cache_issuer_keys);
	if (node_keys_load(a.data, &a.keys, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", context, err);
		goto out;
	}
	if (setup_peers(&a) || nym_http_init() || open_stores(&a))
		goto out;
	if (authority_limits_open(&a)) {
		fprintf(stderr, "%s: out of memory for the registration limits\n", context);
		goto out;
	}

	sigset_t sigs;
	nym_signals_take(&sigs, true);

	rotate_issuer(&a, nym_clock_unix_now());
	a.http.cfg = cfg;
	a.http.metrics = NULL;
	a.http.routes = authority_routes;
	a.http.route_ctx = &a;
	a.http.extra_metrics = authority_metrics;
	a.http.identity = &a.keys.identity;
	memcpy(a.http.noise_public, a.keys.noise.public_key, 32);
	a.http.started_unix = nym_clock_unix_now();
	int rc = node_http_start(&a.http);
	if (rc) {
		fprintf(stderr, "%s: cannot serve HTTP on %s: %s\n", context, cfg->http.bind_address, strerror(-rc));
		goto out;
	}
	if (authority_prober_start(&a)) {
		node_http_stop(&a.http);
		goto out;
	}
	char who[64];
	nym_base58_encode(who, sizeof(who), a.keys.identity.public_key, 32);
	log_info("authority %s running: http %s, %zu authorities (%zu signatures make a document), epoch %" PRIu64
		 " of %llds",
		 who, cfg->http.bind_address, a.nauth, a.threshold, nym_epoch_at(&a.clock, nym_clock_unix_now()),
		 (long long)a.clock.duration_s);
	node_notify("READY=1");
	for (;;) {
		struct timespec tick = { 0, TICK_MS * 1000000L };
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("signal %d: stopping", sig);
			break;
		}
		if (sig == SIGHUP)
			log_info("SIGHUP: nothing to reload for an authority");
		int64_t now_ms = nym_clock_unix_now_ms();
		if (now_ms / 1000 >= a.next_rotate)
			rotate_issuer(&a, now_ms / 1000);
		epoch_work(&a, now_ms);
		static uint64_t pruned;
		uint64_t e = nym_epoch_at(&a.clock, now_ms / 1000);
		if (e != pruned) {
			nym_registry_prune(a.reg, now_ms / 1000, e > KEEP_EPOCHS ? e - KEEP_EPOCHS : 0);
			pruned = e;
		}
	}
	authority_prober_stop(&a);
	node_http_stop(&a.http);
	status = EXIT_SUCCESS;
out:
	nym_registry_close(a.reg);
	nym_registry_close(a.http_reg);
	nym_registry_close(a.probe_reg);
	nym_issuer_close(a.iss);
	nym_issuer_close(a.http_iss);
	nym_spent_merge_close(a.http_spent);
	authority_limits_close(&a);
	node_keys_clear(&a.keys);
	log_info("stopped");
	return status;
}
