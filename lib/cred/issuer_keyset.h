/* The issuer public keys a client blinds under and a gateway verifies with: one key per
 * (ticket type, expiry), with the window in which the authority signs with it (spec §7.2).
 * The JSON list (docs/PROTOCOLS.md §5.3) is what GET /v1/issuer-keys serves and what
 * `--issuer-keys FILE` reads. Only RSABSSA-SHA384-PSS-Randomized keys are accepted.
 *
 * A keyset is built once and then only read; lookups may run from several threads. */
#ifndef NYM_CRED_ISSUER_KEYSET_H
#define NYM_CRED_ISSUER_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "cred/blind_rsa.h"
#include "cred/ticket.h"

/* One authority's list holds at most NYM_ISSUER_KEYS_LIST_MAX keys; a gateway's keyset merges
 * the lists of several authorities. */
#define NYM_ISSUER_KEYS_LIST_MAX 64
#define NYM_ISSUER_KEYSET_MAX 256
#define NYM_ISSUER_KEYS_JSON_MAX (NYM_ISSUER_KEYS_LIST_MAX * 1200 + 1024)
#define NYM_ISSUER_KEYS_VERSION 1

struct nym_issuer_keyset_entry {
	enum nym_ticket_type type;
	int64_t expiry;	    /* every ticket under this key carries it; a multiple of 86400 */
	int64_t issue_from; /* the authority signs with the key in [issue_from, issue_until) */
	int64_t issue_until;
	struct nym_blind_rsa_public_key *key;
};

struct nym_issuer_keyset {
	size_t count;
	struct nym_issuer_keyset_entry keys[NYM_ISSUER_KEYSET_MAX];
};

void nym_issuer_keyset_init(struct nym_issuer_keyset *ks);
void nym_issuer_keyset_clear(struct nym_issuer_keyset *ks);

/* Adds a copy of `key`. -EINVAL for a bad entry (unknown type, expiry off the day grid,
 * window not inside the validity, a non-production variant), -EEXIST when the keyset already
 * has a key for (type, expiry), -ENOSPC when full. */
int nym_issuer_keyset_add(struct nym_issuer_keyset *ks, enum nym_ticket_type type, int64_t expiry,
			  int64_t issue_from, int64_t issue_until,
			  const struct nym_blind_rsa_public_key *key);

const struct nym_issuer_keyset_entry *nym_issuer_keyset_find(const struct nym_issuer_keyset *ks,
						    enum nym_ticket_type type, int64_t expiry);
/* The key a client should blind under now: its issuance window contains `now`; with several,
 * the one that started last. NULL if none. */
const struct nym_issuer_keyset_entry *nym_issuer_keyset_current(const struct nym_issuer_keyset *ks,
						       enum nym_ticket_type type, int64_t now);

/* Adds every key of src that dst lacks. Unlike nym_issuer_keyset_add this accepts a second key
 * for a (type, expiry) already present: several authorities each issue under their own key
 * for the same day, and a ticket is then checked against each candidate. A merged keyset
 * may therefore not serialize to a valid list. -ENOSPC when full, -ENOMEM. */
int nym_issuer_keyset_merge(struct nym_issuer_keyset *dst, const struct nym_issuer_keyset *src);

/* Pure parser of the JSON list; on error the keyset is left empty. -EINVAL for anything
 * malformed, -EMSGSIZE when longer than NYM_ISSUER_KEYS_JSON_MAX. */
int nym_issuer_keyset_from_json(struct nym_issuer_keyset *ks, const char *json, size_t len);
/* *json is malloc'd, NUL-terminated. */
int nym_issuer_keyset_to_json(const struct nym_issuer_keyset *ks, char **json);

/* Spend steps 1-4 (spec §7.3) without the double-spending check: parses the ticket, refuses
 * a type outside `accepted_types` (a bit mask of 1 << type), an expiry at or before `now`,
 * a (type, expiry) without a key and a wrong length, then verifies the signature (against
 * each key of that type and expiry, in a merged keyset).
 * On success *msg (if not NULL) holds the ticket's fields.
 * Returns 0, -EINVAL malformed, -EPERM type not accepted, -EKEYEXPIRED expired, -ENOKEY no
 * issuer key, -EBADMSG invalid signature. */
int nym_issuer_keyset_verify_ticket(const struct nym_issuer_keyset *ks, const uint8_t *ticket,
				    size_t len, int64_t now, unsigned accepted_types,
				    struct nym_ticket_msg *msg);

#define NYM_TICKET_TYPES_ALL                                                                       \
	((1u << NYM_TICKET_MIXNET_ENTRY) | (1u << NYM_TICKET_WG_ENTRY) | (1u << NYM_TICKET_WG_EXIT))

#endif
