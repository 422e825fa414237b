/* An authority's vote for an epoch and the consensus built from the votes (docs/PROTOCOLS.md
 * §7.4). A vote lists the self-descriptions of the nodes its author found reachable, the
 * epoch and its validity, and the digest of the previous document its author holds; it is
 * signed by the authority over its canonical JSON (domain "nym-vote-v1"):
 *
 *   {"vote": {"authority": B58, "epoch": E, "nodes": [descriptor envelope, ...],
 *             "previous": HEX | "", "valid_from": T, "valid_until": T, "version": 1},
 *    "signature": B58}
 *
 * Every authority that holds the same set of votes builds byte for byte the same document:
 * the consensus is a pure function of the votes and the previous document. */
#ifndef NYM_TOPOLOGY_VOTE_H
#define NYM_TOPOLOGY_VOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology/descriptor.h"
#include "topology/epoch_doc.h"

#define NYM_VOTE_DOMAIN "nym-vote-v1"
#define NYM_VOTE_VERSION 1
#define NYM_VOTE_JSON_MAX (8u << 20)

struct nym_vote {
	uint8_t authority[32];
	uint64_t epoch;
	int64_t valid_from, valid_until;
	bool has_previous;
	uint8_t previous[32];
	size_t node_count; /* ascending by identity, each once */
	struct nym_descriptor_signed *nodes;
	uint8_t signature[NYM_ED25519_SIG_LEN];
};

void nym_vote_free(struct nym_vote *v);

/* Sorts the nodes, signs with kp (setting v->authority and v->signature). -EINVAL for an
 * invalid vote (duplicate identities, bad validity). */
int nym_vote_sign(struct nym_vote *v, const struct nym_ed25519_keypair *kp);
/* The signed envelope. */
json_t *nym_vote_to_json(const struct nym_vote *v);
/* Strict parse and verification of an envelope (the vote's and every node's signature):
 * -EINVAL, -EBADMSG, -ENOMEM. */
int nym_vote_from_json(const json_t *j, struct nym_vote *v);
int nym_vote_decode(const char *body, size_t len, struct nym_vote *v);

/* The previous document the consensus continues from: the digest named by the most votes
 * (ties to the smaller digest), ignoring votes that name none. *has is false when none does. */
void nym_vote_consensus_previous(const struct nym_vote *const *votes, size_t n, bool *has, uint8_t digest[32]);

/* Builds the document for `epoch` from n votes of distinct authorities (all for that epoch
 * and validity, else -EINVAL):
 *   - a node is listed when more than half of the votes list it, as described by the latest
 *     description among them (ties to the smaller signature);
 *   - mixnodes go to layers (topology/layers.h) with the seed of (epoch, previous digest),
 *     avoiding their layer in `previous`; gateways are listed as they are;
 *   - previous, when given, must be the document whose digest nym_vote_consensus_previous chose
 *     (the caller fetches it) and is NULL only when none was chosen. */
int nym_vote_consensus_build(const struct nym_vote *const *votes, size_t n, const struct nym_epoch_doc *previous,
			const uint8_t *previous_digest, struct nym_epoch_doc *out);

#endif
