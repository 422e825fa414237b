/* A gateway's side of ticket spending (docs/PROTOCOLS.md, "Spending"): the issuer keys merged
 * from every authority, the authorities' spent filter loaded into the gateway's ticket store,
 * and the signed reports of spent serials posted to every authority. Spending itself is
 * nym_ticket_store_spend against the gathered keys.
 *
 * The engine holds no sockets: the authorities are reached through the functions of struct
 * gateway_tickets_authorities, which the caller backs with its directory client (over HTTP in
 * nym-node) and tests back with authority engines in the same process. */
#ifndef NYM_GATEWAY_GATEWAY_TICKETS_H
#define NYM_GATEWAY_GATEWAY_TICKETS_H

#include <stddef.h>
#include <stdint.h>

#include "cred/issuer_keyset.h"
#include "credstore/ticket_store.h"
#include "crypto/ed25519.h"

#define GATEWAY_TICKETS_ERR_MAX 512

/* Authority i of count. Each function returns 0 or a negative errno with err saying what went
 * wrong, naming the authority. */
struct gateway_tickets_authorities {
	size_t count;
	void *ctx;
	int (*issuer_keys)(void *ctx, size_t i, int64_t now, struct nym_issuer_keyset *out, char *err, size_t errlen);
	/* *data malloc'd: a serialized spent filter made at *created. */
	int (*spent_filter)(void *ctx, size_t i, int64_t now, uint8_t **data, size_t *len, int64_t *created, char *err,
			    size_t errlen);
	/* 0 only when the authority took the report. */
	int (*post_report)(void *ctx, size_t i, const uint8_t *report, size_t len, char *err, size_t errlen);
	/* Hears every failure the protocol carries on past (one authority down, a refused
	 * filter); NULL to stay silent. */
	void (*complain)(void *ctx, const char *msg);
};

/* Initialises `all` and merges the issuer keys of every authority that answers. Returns 0, or
 * -EIO when none did. */
int gateway_tickets_gather_keys(const struct gateway_tickets_authorities *a, int64_t now,
				struct nym_issuer_keyset *all);

/* Loads the spent filter of the first authority (in list order) that gives one into the
 * store: every gateway reports to every authority, so any one filter is complete. *created
 * gets its time (0 when none). Returns 0, -EIO when no authority gave one, or the store's
 * refusal. */
int gateway_tickets_refresh_filter(const struct gateway_tickets_authorities *a, struct nym_ticket_store *st,
				   int64_t now, int64_t *created);

/* The signed report of every serial the store has not reported yet, in a malloc'd buffer
 * (*last: the sequence number the report ends at, for nym_ticket_store_report_done).
 * Returns 0, -ENOENT when nothing waits, or the store's negative errno. Both the one-shot
 * report below and the retrying outbox (gateway_outbox) send what this builds. */
int gateway_tickets_build_report(struct nym_ticket_store *st, const struct nym_ed25519_keypair *id, int64_t now,
				 uint8_t **report, size_t *len, uint64_t *last);

/* Posts every serial the store has not reported yet, signed with the gateway's identity, to
 * every authority; marks them reported only when all took the report, so a failed one is sent
 * again next time. `save`, when not NULL, also gets the signed report. *reported gets the
 * serials marked reported. Returns 0 (also with nothing to report, or when an authority did
 * not take it) or a negative errno from the store or the save. */
int gateway_tickets_report(const struct gateway_tickets_authorities *a, struct nym_ticket_store *st,
			   const struct nym_ed25519_keypair *id, int64_t now, const char *save, size_t *reported);

#endif
