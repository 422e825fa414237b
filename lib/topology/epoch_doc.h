/* The topology of one epoch (docs/PROTOCOLS.md §7.3, §7.5): epoch number and validity, the
 * authorities whose votes it was built from, the mixnodes in three layers and the gateways,
 * each node as its signed self-description. Its canonical JSON is what every authority signs
 * (domain "nym-topology-v1"); the SHA-256 of those bytes is the document's digest, which the
 * next epoch's layer seed includes.
 *
 * What is served and fetched is the signed document:
 *
 *   {"document": {...}, "signatures": [{"authority": B58, "signature": B58}, ...]}
 *
 * and a reader accepts it when at least k of the n authority keys it was configured with
 * signed those exact canonical bytes. Pure parser, encoder and verifier. */
#ifndef NYM_TOPOLOGY_EPOCH_DOC_H
#define NYM_TOPOLOGY_EPOCH_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "topology/descriptor.h"
#include "topology/layers.h"

#define NYM_EPOCH_DOC_DOMAIN "nym-topology-v1"
#define NYM_EPOCH_DOC_VERSION 1
#define NYM_EPOCH_DOC_JSON_MAX (8u << 20)
#define NYM_TOPOLOGY_NODES_MAX 4096
#define NYM_AUTHORITIES_MAX 16

struct nym_epoch_doc {
	uint64_t epoch; /* >= 1 */
	int64_t valid_from, valid_until;
	bool has_previous;
	uint8_t previous[32]; /* digest of the previous epoch's document */
	size_t voter_count;   /* 1..NYM_AUTHORITIES_MAX, ascending keys */
	uint8_t voters[NYM_AUTHORITIES_MAX][32];
	/* Each list ascending by identity; an identity appears once in the whole document. */
	size_t layer_count[NYM_LAYERS];
	struct nym_descriptor_signed *layers[NYM_LAYERS]; /* role mixnode */
	size_t gateway_count;
	struct nym_descriptor_signed *gateways; /* entry and/or exit roles */
};

struct nym_epoch_doc_signature {
	uint8_t authority[32];
	uint8_t signature[NYM_ED25519_SIG_LEN];
};

struct nym_epoch_doc_signatures {
	size_t count; /* distinct authorities */
	struct nym_epoch_doc_signature sigs[NYM_AUTHORITIES_MAX];
};

void nym_epoch_doc_init(struct nym_epoch_doc *doc);
void nym_epoch_doc_free(struct nym_epoch_doc *doc);

/* Checks the rules above (order, roles, uniqueness, counts, validity). 0 or -EINVAL. */
int nym_epoch_doc_validate(const struct nym_epoch_doc *doc);

json_t *nym_epoch_doc_to_json(const struct nym_epoch_doc *doc);
/* Canonical bytes (*out malloc'd, NUL-terminated) and their digest (either may be NULL). */
int nym_epoch_doc_encode(const struct nym_epoch_doc *doc, char **out, size_t *len,
			 uint8_t digest[32]);
/* Strict parser of the "document" object, verifying every node's signature. On error the
 * document is left empty. -EINVAL, -EBADMSG (a node's signature), -ENOMEM. */
int nym_epoch_doc_from_json(const json_t *j, struct nym_epoch_doc *doc);

/* The signed envelope around canonical document bytes; *out malloc'd. */
int nym_epoch_doc_signed_encode(const char *doc_bytes, size_t doc_len, const struct nym_epoch_doc_signatures *sigs,
			  char **out, size_t *out_len);
/* Parses an envelope: the document (strictly), its canonical bytes and digest, and the
 * signatures as given (unverified; at most one per authority). canonical may be NULL. */
int nym_epoch_doc_signed_decode(const char *body, size_t len, struct nym_epoch_doc *doc,
			  struct nym_epoch_doc_signatures *sigs, char **canonical, size_t *canonical_len,
			  uint8_t digest[32]);

void nym_epoch_doc_sign(const struct nym_ed25519_keypair *kp, const char *doc_bytes, size_t doc_len,
		  struct nym_epoch_doc_signature *out);
bool nym_epoch_doc_signature_valid(const struct nym_epoch_doc_signature *s, const char *doc_bytes, size_t doc_len);
/* Adds (or replaces) one authority's signature. -ENOSPC when full. */
int nym_epoch_doc_signatures_add(struct nym_epoch_doc_signatures *sigs, const struct nym_epoch_doc_signature *s);

/* k-of-n: counts the distinct keys of `trusted` with a valid signature over the bytes into
 * *valid. Returns 0 when *valid >= threshold, -EACCES when fewer, -EINVAL for threshold 0 or
 * above ntrusted. */
int nym_epoch_doc_verify(const struct nym_epoch_doc_signatures *sigs, const char *doc_bytes, size_t doc_len,
		   const uint8_t (*trusted)[32], size_t ntrusted, size_t threshold, size_t *valid);

/* Looks a node up by identity; *layer gets its layer or NYM_LAYER_NONE for a gateway. */
const struct nym_descriptor_signed *nym_epoch_doc_find(const struct nym_epoch_doc *doc,
						       const uint8_t identity[32], int *layer);

/* Gateways with every role bit in `roles` and, when country is non-empty, that country. */
struct nym_epoch_doc_gateway_query {
	unsigned roles;
	char country[3];
	bool amnezia; /* only gateways announcing AmneziaWG parameters */
};
size_t nym_epoch_doc_gateways(const struct nym_epoch_doc *doc, const struct nym_epoch_doc_gateway_query *q,
			      const struct nym_descriptor_signed **out, size_t cap);

#endif
