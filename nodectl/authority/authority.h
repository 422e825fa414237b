/* nym-node run --mode authority: the directory and credential authority (docs/ARCHITECTURE.md,
 * "The authority"). Three threads:
 *   - main: signals, issuer key rotation, and the epoch work: vote at the middle of each
 *     epoch for the next one, gather the other authorities' votes, build and sign the
 *     document at three quarters, gather signatures (or adopt a document k authorities
 *     signed when ours diverged or is missing);
 *   - prober: probes every registered node's mixnet port and HTTP API, merges the other
 *     authorities' registries;
 *   - HTTP (libmicrohttpd, http.threads of them): the /v1 API, through their own database
 *     handles under one lock, except ticketbook issuance (an issuer per thread) and the
 *     answers the same for everyone (cached, rebuilt once per change).
 * All state is in three SQLite files under data/: registry.db, issuer.db, spent.db. */
#ifndef NYM_NODECTL_AUTHORITY_H
#define NYM_NODECTL_AUTHORITY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "credstore/issuer.h"
#include "credstore/spent_merge.h"
#include "directory/registry.h"
#include "nodectl/node/node_config.h"
#include "nodectl/node/node_http.h"
#include "nodectl/node/node_keys.h"
#include "topology/epoch.h"
#include "topology/epoch_doc.h"
#include "util/ratelimit.h"

/* The most issuers (http.threads at most). */
#define AUTHORITY_ISSUERS_MAX 64

struct authority_peer {
	char url[CONF_STR_MAX];
	uint8_t key[32];
};

/* Counted for /api/v1/metrics/prometheus. */
struct authority_counters {
	_Atomic uint64_t votes_made, votes_received, documents_built, documents_adopted;
	_Atomic uint64_t signatures_received, probe_rounds, probes_failed, peer_merges;
	_Atomic uint64_t http_requests, http_refused;
	_Atomic uint64_t registrations_limited, admission_lists;
};

struct authority {
	const char *context;
	const struct node_config *cfg;
	char data[NODE_PATH_MAX];
	char registry_path[NODE_PATH_MAX + 16], issuer_path[NODE_PATH_MAX + 16], spent_path[NODE_PATH_MAX + 16];
	struct node_keys keys;
	struct nym_epoch_clock clock;
	struct nym_registry_config reg_cfg;
	struct nym_issuer_config iss_cfg;
	/* Every authority, this one first; trusted[i] is peers[i - 1].key for i > 0. */
	size_t npeers;
	struct authority_peer peers[NYM_AUTHORITIES_MAX - 1];
	size_t nauth;
	uint8_t trusted[NYM_AUTHORITIES_MAX][32];
	size_t threshold;

	/* Main thread. */
	struct nym_registry *reg;
	struct nym_issuer *iss;
	uint64_t voted, built;
	int64_t next_sig_ms, next_vote_fetch_ms, next_rotate;

	/* HTTP threads, under http_lock. */
	pthread_mutex_t http_lock;
	struct nym_registry *http_reg;
	struct nym_issuer *http_iss;
	struct nym_spent_merge *http_spent;
	struct nym_ratelimit_table *reg_buckets; /* POST /v1/nodes per source address */
	/* Set while the prober waits for http_lock: registrations hold back, so a stream of
	 * them cannot starve the write of a probe round (a mutex does not queue its waiters). */
	_Atomic bool prober_waiting;
	struct node_http http;
	/* HTTP threads, for ticketbook issuance: one issuer each, so blind RSA signing neither
	 * waits for nor holds http_lock. */
	size_t nissuers;
	struct authority_issuer {
		pthread_mutex_t lock;
		struct nym_issuer *iss;
	} issuers[AUTHORITY_ISSUERS_MAX];
	/* Answers the same for everyone, rebuilt when the database they come from changed
	 * (watch_*: read-only connections for nym_db_data_version, used without a lock). */
	struct sqlite3 *watch_reg, *watch_iss;
	struct node_http_cache cache_nodes, cache_topology, cache_epoch, cache_issuer_keys;

	/* Prober thread. */
	pthread_t prober;
	bool prober_started;
	_Atomic bool stopping;
	struct nym_registry *probe_reg;

	struct authority_counters n;
};

/* Runs until SIGINT/SIGTERM; returns the exit status. cfg and dir come from cmd_run. */
int authority_run(const char *context, const struct node_config *cfg, const char *dir);

/* authority_http.c */
extern const struct node_http_route authority_routes[];
char *authority_metrics(void *ctx);

/* authority_limits.c: registration rate per source address (HTTP thread, takes http_lock),
 * GET /v1/admissions and the pages of GET /v1/nodes; the peers' registries and admission
 * lists (prober thread). */
int authority_limits_open(struct authority *a);
void authority_limits_close(struct authority *a);
bool authority_registration_allowed(struct authority *a, const struct node_http_request *req);
void authority_get_admissions(void *ctx, const struct node_http_request *req, struct node_http_reply *rep);
void authority_merge_admissions(struct authority *a);
/* The query of GET /v1/nodes: after (base58 identity, optional) and limit (1 up to
 * authority.nodes_page_size, which is the default). -EINVAL for anything else. */
int authority_page_params(const struct authority *a, const char *after_text, const char *limit_text,
			  uint8_t after[32], uint64_t *limit);
void authority_merge_peer_nodes(struct authority *a);

/* authority_probe.c */
int authority_prober_start(struct authority *a);
void authority_prober_stop(struct authority *a);

/* Milliseconds since the Unix epoch. */
/* "URL/path" for every peer, fetched in parallel; items[i] answers peers[i]. */
struct nym_http_batch_item;
int authority_fetch_peers(struct authority *a, const char *path, size_t max, long timeout_ms,
			  struct nym_http_batch_item *items);

#endif
