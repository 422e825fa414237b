/* The authority's registry (docs/PROTOCOLS.md §7): an engine over one SQLite database, with
 * time passed in and no sockets, holding
 *   - the nodes: each node's latest signed self-description, when it was first and last
 *     announced, and when it last answered the reachability probes;
 *   - the votes of every authority for recent epochs (signed; kept as received);
 *   - the document built for each epoch and the authorities' signatures gathered for it.
 *
 * A description replaces the stored one only when it is newer (published later); a repeat of
 * the stored one changes nothing, an older one is refused, so a replayed announcement can
 * never roll a node's keys back. One struct per thread; several may open the same file. */
#ifndef NYM_DIRECTORY_REGISTRY_H
#define NYM_DIRECTORY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "topology/descriptor.h"
#include "topology/epoch_doc.h"
#include "topology/vote.h"

/* Bodies: one description, and a peer's whole node list. */
#define NYM_REGISTRY_POST_MAX NYM_DESCRIPTOR_JSON_MAX
#define NYM_REGISTRY_LIST_MAX (16u << 20)

struct nym_registry_config {
	int64_t max_age_s;  /* descriptions published longer ago are refused and forgotten (1 day) */
	int64_t max_skew_s; /* ... and those published this far in the future (5 minutes) */
	uint64_t max_nodes; /* nodes held (4096); then a new one replaces the longest unreachable */
	bool allowlist;	    /* only admitted identities (directory/allowlist.h) register and count */
};
void nym_registry_config_default(struct nym_registry_config *cfg);

struct nym_registry;

int nym_registry_open(struct nym_registry **out, const char *path, const struct nym_registry_config *cfg);
void nym_registry_close(struct nym_registry *r);

enum nym_registry_outcome {
	NYM_REGISTRY_ADDED,
	NYM_REGISTRY_UPDATED,
	NYM_REGISTRY_UNCHANGED,
};

/* The database connection, for the modules keeping tables in the registry's file
 * (directory/allowlist.h). Used on the registry's thread only. */
sqlite3 *nym_registry_db(struct nym_registry *r);

/* Stores a verified description (announced by the node, or learnt from a peer). A node
 * announces a freshly published description every epoch, so a repeat of the stored one is a
 * replay and changes nothing, not even the time last announced. Returns 0 with the outcome, -ESTALE when the stored one is newer (or as new
 * and different), -ERANGE when published outside [now - max_age, now + max_skew], -EPERM when
 * the allowlist is on and the identity not admitted, -EDQUOT when the registry is full of
 * nodes that answer their probes, or a database error. */
int nym_registry_submit(struct nym_registry *r, const struct nym_descriptor_signed *sd, int64_t now,
			enum nym_registry_outcome *outcome);

/* POST /v1/nodes: a description envelope in; 200 {"result": "added"|"updated"|"unchanged",
 * "identity", "published"}; 400 malformed or out of range; 401 bad signature; 403 not
 * admitted; 409 stale; 413 too large; 503 busy or full; 500. Every error is
 * {"error": message}. *resp is malloc'd. */
int nym_registry_handle_post(struct nym_registry *r, const char *body, size_t len, int64_t now, int *status,
			     char **resp, size_t *resp_len);

/* GET /v1/nodes: {"nodes": [{"node": envelope, "first_seen", "last_announced" (when the
 * stored description arrived), "last_mix_ok", "last_http_ok"}, ...], "next": B58} in
 * identity order: at most `limit` nodes whose identity follows `after` (NULL: from the
 * first); "next" (the last identity listed) only when more follow. */
int nym_registry_nodes_json(struct nym_registry *r, const uint8_t *after, size_t limit, char **out, size_t *len);
/* Merges a peer's node list: each description is verified and submitted. *added counts the
 * new or newer ones. -EINVAL when the body is not a node list at all. */
int nym_registry_merge(struct nym_registry *r, const char *body, size_t len, int64_t now, size_t *added);

/* Every node, for probing. *out is malloc'd. */
int nym_registry_all(struct nym_registry *r, struct nym_descriptor_signed **out, size_t *n);
/* The nodes to probe (the admitted ones with the allowlist on), in the order a bounded round
 * should take them: reachable ones first, the longest reachable first, then the others,
 * registered earliest first, so a flood of fresh registrations queues behind the network.
 * Only what a probe needs is filled in (identity, first address, mixnet and HTTP ports), read
 * without checking signatures again, so a round over a full registry starts at once. */
int nym_registry_probe_order(struct nym_registry *r, struct nym_descriptor **out, size_t *n);
int nym_registry_probe_result(struct nym_registry *r, const uint8_t identity[32], int64_t now, bool mix_ok,
			      bool http_ok);
/* A whole round's results in one transaction: one commit (one fsync) however many nodes, so a
 * round over a crowded registry stays short. */
struct nym_registry_probe_outcome {
	const uint8_t *identity; /* 32 bytes */
	bool mix_ok, http_ok;
};
int nym_registry_probe_results(struct nym_registry *r, const struct nym_registry_probe_outcome *o, size_t n,
			       int64_t now);
/* The nodes whose mixnet port and HTTP API both answered at or after `since` (admitted ones
 * with the allowlist on), the longest reachable first (then by identity). */
int nym_registry_reachable(struct nym_registry *r, int64_t since, struct nym_descriptor_signed **out, size_t *n);
/* Whether the identity is a registered gateway (the spent reports' check). */
bool nym_registry_is_gateway(struct nym_registry *r, const uint8_t identity[32]);
/* Forgets nodes not announced within max_age, votes, documents and signatures of epochs
 * before keep_epoch. */
int nym_registry_prune(struct nym_registry *r, int64_t now, uint64_t keep_epoch);

/* Votes, kept as their canonical envelope. A second vote of one authority for one epoch is
 * ignored (-EEXIST): an authority votes once. */
int nym_registry_put_vote(struct nym_registry *r, const struct nym_vote *v, int64_t now);
/* The parsed votes for an epoch; free each with nym_vote_free and the array with free(). */
int nym_registry_votes(struct nym_registry *r, uint64_t epoch, struct nym_vote **out, size_t *n);
size_t nym_registry_vote_count(struct nym_registry *r, uint64_t epoch);
/* GET /v1/votes/EPOCH: {"epoch": E, "votes": [envelope, ...]}. */
int nym_registry_votes_json(struct nym_registry *r, uint64_t epoch, char **out, size_t *len);

/* The document of an epoch (canonical bytes). Storing another digest for the epoch replaces
 * it and drops the signatures gathered for the old one. `own`: built here, not adopted. */
int nym_registry_put_document(struct nym_registry *r, uint64_t epoch, const char *bytes, size_t len, bool own);
/* -ENOENT when there is none. *bytes malloc'd and NUL-terminated. */
int nym_registry_document(struct nym_registry *r, uint64_t epoch, char **bytes, size_t *len, uint8_t digest[32],
			  bool *own);
/* The latest epoch with a document, at most `at_most`. -ENOENT when none. */
int nym_registry_latest_document(struct nym_registry *r, uint64_t at_most, uint64_t *epoch);
/* Adds a signature the caller verified over the epoch's current document. */
int nym_registry_add_signature(struct nym_registry *r, uint64_t epoch, const struct nym_epoch_doc_signature *s);
int nym_registry_signatures(struct nym_registry *r, uint64_t epoch, struct nym_epoch_doc_signatures *out);
/* The signed envelope of the epoch's document with every signature gathered. */
int nym_registry_signed_document(struct nym_registry *r, uint64_t epoch, char **out, size_t *len);

struct nym_registry_stats {
	uint64_t nodes, gateways, votes, documents;
};
int nym_registry_stats(struct nym_registry *r, struct nym_registry_stats *st);

#endif
