/* The directory and credential clients over HTTP (docs/PROTOCOLS.md §7.7): fetch the epoch
 * document from a set of authorities and accept it only with k of the n configured
 * signatures; pick gateways from it; fetch an authority's signed issuer key list and spent
 * filter; obtain a ticketbook with a voucher; post announcements and spent reports.
 *
 * Every function takes an err buffer that receives a one-line explanation on failure. */
#ifndef NYM_DIRCLIENT_DIR_CLIENT_H
#define NYM_DIRCLIENT_DIR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/issuer_keyset.h"
#include "cred/ticketbook.h"
#include "topology/epoch_doc.h"

#define NYM_DIR_ERR_MAX 512
/* Issuer key lists and spent filters older than this are refused (replays of old bodies). */
#define NYM_DIR_SIGNED_MAX_AGE_S 3600
#define NYM_DIR_SIGNED_MAX_SKEW_S 300
#define NYM_DIR_FILTER_MAX (64u << 20)

/* The authorities a client trusts: their Ed25519 keys and how many must sign a document. */
struct nym_dir_client_trust {
	size_t count;
	uint8_t keys[NYM_AUTHORITIES_MAX][32];
	size_t threshold; /* 1..count */
};

/* Adds a base58 key. -EINVAL (not a key), -ENOSPC. */
int nym_dir_client_trust_add(struct nym_dir_client_trust *t, const char *b58);
bool nym_dir_client_trust_has(const struct nym_dir_client_trust *t, const uint8_t key[32]);

struct nym_dir_client_topology {
	struct nym_epoch_doc doc;
	char *canonical; /* the signed bytes */
	size_t len;
	uint8_t digest[32];
	struct nym_epoch_doc_signatures sigs; /* as received */
	size_t valid;			/* trusted valid signatures */
	char source[256];		/* the authority it came from */
};

void nym_dir_client_topology_free(struct nym_dir_client_topology *t);

/* Asks each authority for its document (epoch 0: the current one) and keeps, of those with at
 * least trust->threshold valid signatures from trusted keys, the one of the latest epoch
 * (then the most signatures). -EACCES when no answer verified, with the reasons in err. */
int nym_dir_client_fetch_topology(const char *const *urls, size_t nurls, const struct nym_dir_client_trust *trust, uint64_t epoch,
			   long timeout_ms, struct nym_dir_client_topology *out, char *err, size_t errlen);

/* A gateway by identity (identity non-NULL), else one drawn uniformly at random among those
 * matching q. -ENOENT when none. */
int nym_dir_client_pick_gateway(const struct nym_epoch_doc *doc, const uint8_t *identity, const struct nym_epoch_doc_gateway_query *q,
			 const struct nym_descriptor_signed **out);

/* GET /v1/issuer-keys. With trust, the body must carry a valid X-Nym-Signature of a trusted
 * authority created within the last NYM_DIR_SIGNED_MAX_AGE_S; *verified says whether it did
 * (always true with trust). */
int nym_dir_client_fetch_issuer_keys(const char *url, const struct nym_dir_client_trust *trust, int64_t now, long timeout_ms,
			      struct nym_issuer_keyset *ks, bool *verified, char *err, size_t errlen);

/* GET /v1/spent-filter under the same rules; *data malloc'd (a serialized util/bloom). */
int nym_dir_client_fetch_spent_filter(const char *url, const struct nym_dir_client_trust *trust, int64_t now, long timeout_ms,
			       uint8_t **data, size_t *len, int64_t *created, char *err, size_t errlen);

/* Obtains a book of `count` tickets of `type` from the authority at url with a voucher
 * (docs/PROTOCOLS.md §5.4), saving it at `path`: pending before the request leaves (so a
 * lost answer can be asked for again: when path already holds a pending book for this voucher
 * its request is sent again, unchanged), ready once finalized. A refused request removes the
 * pending file. *out may be NULL. */
int nym_dir_client_obtain_ticketbook(const char *url, const struct nym_dir_client_trust *trust, const char *voucher,
			      enum nym_ticket_type type, size_t count, const char *path, int64_t now, long timeout_ms,
			      struct nym_ticketbook **out, char *err, size_t errlen);

/* POSTs a body; *status gets the HTTP status and *answer (when non-NULL) the malloc'd body. */
int nym_dir_client_post(const char *url, const char *content_type, const void *body, size_t len, long timeout_ms,
		 int *status, char **answer, char *err, size_t errlen);

#endif
