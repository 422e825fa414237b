/* The gateway's durable per-client state, clients.sqlite (lib/store): the bandwidth balance of
 * each client identity (survives restarts) and the inbox of messages for clients that were not
 * connected when they arrived (docs/PROTOCOLS.md §8.6).
 *
 * The inbox holds at most inbox_cap messages per identity (more are refused and counted: the
 * sender's retransmission covers them), forgets messages older than max_age (purge), and hands
 * them out oldest first. A message is deleted only once the caller says it was handed to the
 * client's connection, so a crash in between delivers it twice rather than never.
 *
 * One struct per thread. */
#ifndef NYM_GATEWAY_GATEWAY_CLIENTS_H
#define NYM_GATEWAY_GATEWAY_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/issuer_keyset.h"
#include "credstore/ticket_store.h"
#include "mix/mix_packet_size.h"

#define GATEWAY_CLIENT_ID_LEN 32

struct gateway_clients;

struct gateway_clients_counters {
	uint64_t inbox_stored;
	uint64_t inbox_refused_cap; /* the identity's inbox was full */
	uint64_t inbox_delivered;
	uint64_t inbox_purged;
};

/* One stored message. item points into the struct's own buffer until the next call. */
struct gateway_inbox_item {
	int64_t id; /* row id: oldest first */
	enum mix_packet_size size;
	int64_t received; /* Unix seconds */
	size_t len;
	uint8_t item[MIX_PACKET_MAX_LEN];
};

/* Returns 0 or a negative errno. inbox_cap 0 keeps nothing; max_age_s 0 never purges. */
int gateway_clients_open(struct gateway_clients **out, const char *path, uint64_t inbox_cap, uint64_t max_age_s);
void gateway_clients_close(struct gateway_clients *c);

/* The stored balance (0 for an identity never seen). */
int gateway_clients_balance_get(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t *bytes);
int gateway_clients_balance_set(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes,
				int64_t now);

/* Stores a message for id. Returns 0, -ENOSPC (inbox full; counted), -EINVAL or a store error. */
int gateway_clients_inbox_put(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN],
			      enum mix_packet_size size, const uint8_t *item, size_t len, int64_t now);
/* The oldest message for id with a row id above after_id (start with 0). Returns 0, -ENOENT
 * when none is left, or a store error. */
int gateway_clients_inbox_next(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], int64_t after_id,
			       struct gateway_inbox_item *out);
/* The message was handed to the client's connection: forget it. */
int gateway_clients_inbox_delete(struct gateway_clients *c, int64_t row_id);
int gateway_clients_inbox_count(struct gateway_clients *c, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t *n);
/* Forgets messages older than max_age at now; *purged (may be NULL) counts them. */
int gateway_clients_inbox_purge(struct gateway_clients *c, int64_t now, uint64_t *purged);

/* Groups what follows into one transaction (one commit, one sync) until
 * gateway_clients_commit: for a batch of final hops or a pass over the inbox. Nesting is not
 * supported. Returns 0 or a negative errno (then run without a transaction). */
int gateway_clients_begin(struct gateway_clients *c);
int gateway_clients_commit(struct gateway_clients *c);

/* ---- Ticket credits: a spend and its credit, crash-safe (docs/PROTOCOLS.md §8.6) ----
 *
 * The ticket store (tickets.db) and the balances (clients.sqlite) are two databases, so no one
 * transaction covers both. The credit goes in steps, each its own committed transaction,
 * keyed by the ticket's serial:
 *   0. nym_ticket_store_check: the ticket verified, its serial unspent (nothing written);
 *   1. clients.sqlite: a pending credit (serial, identity, bytes, ticket expiry);
 *   2. tickets.db: the serial recorded spent (nym_ticket_store_record);
 *   3. clients.sqlite: the balance credited and the credit marked applied, one transaction.
 * A refusal at 2 drops the pending credit. After a crash anywhere, gateway_clients_credit_resolve
 * (at start-up, before any client link and before the ticket store is pruned) settles every
 * pending credit against the ticket store: serial spent -> applied, not spent -> dropped (the
 * ticket was not spent: the client may present it again). An applied credit is kept until its
 * ticket expires, so a serial is credited at most once.
 *
 * This holds as long as every spend against the ticket store goes through these functions
 * (one writer: the gateway service thread). */

/* Steps 0 to 3 for identity id. Returns 0 when the ticket was spent and bytes were added to
 * id's stored balance (*balance, may be NULL, gets the stored balance after it), a refusal of
 * nym_ticket_store_spend (-EINVAL, -EPERM, -EKEYEXPIRED, -ENOKEY, -EBADMSG, -EALREADY:
 * nothing credited, no pending credit left), or a database error (-EBUSY also when called
 * inside gateway_clients_begin): then a pending credit may remain for resolve. */
int gateway_clients_spend_ticket(struct gateway_clients *c, struct nym_ticket_store *st,
				 const struct nym_issuer_keyset *keys, const uint8_t *ticket, size_t len, int64_t now,
				 unsigned accepted_types, const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes,
				 uint64_t *balance, struct nym_ticket_msg *msg);

/* Settles every pending credit against st (see above); *applied and *dropped (may be NULL)
 * count them. Call it with no client link open: it adds to stored balances. */
int gateway_clients_credit_resolve(struct gateway_clients *c, struct nym_ticket_store *st, int64_t now,
				   uint64_t *applied, uint64_t *dropped);
/* Forgets applied credits whose tickets expired by now (the ticket store forgets them too). */
int gateway_clients_credit_prune(struct gateway_clients *c, int64_t now);
int gateway_clients_credit_pending_count(struct gateway_clients *c, uint64_t *n);

/* The single steps (for the tests and the resolve). pending: step 1; -EALREADY when the
 * serial has an applied credit (a pending one is replaced). apply: step 3, idempotent:
 * -EALREADY when applied before, -ENOENT when there is no such credit. drop: forgets a
 * pending credit (never an applied one). */
int gateway_clients_credit_pending(struct gateway_clients *c, const struct nym_ticket_msg *m,
				   const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, int64_t now);
int gateway_clients_credit_apply(struct gateway_clients *c, const uint8_t serial[NYM_TICKET_SERIAL_LEN], int64_t now,
				 uint64_t *balance);
int gateway_clients_credit_drop(struct gateway_clients *c, const uint8_t serial[NYM_TICKET_SERIAL_LEN]);

void gateway_clients_counters(const struct gateway_clients *c, struct gateway_clients_counters *out);

/* ---- WireGuard peers (gateway_wg) ----
 * A registered peer's row; its balance is a row of the balances above, under an id that
 * gateway_wg derives from the key (so WireGuard keys and link identities never share one). */
struct gateway_clients_wg_peer {
	uint8_t public_key[GATEWAY_CLIENT_ID_LEN];
	uint8_t ipv4[4], ipv6[16];
	uint64_t nonce;	    /* of the registration, for an idempotent repeat of its FINAL */
	uint64_t counter;   /* rx + tx last read from the device */
	int64_t last_active; /* Unix seconds */
	int64_t registered;
};

/* Insert or replace by key. */
int gateway_clients_wg_peer_put(struct gateway_clients *c, const struct gateway_clients_wg_peer *p);
int gateway_clients_wg_peer_delete(struct gateway_clients *c, const uint8_t public_key[GATEWAY_CLIENT_ID_LEN]);
/* Calls each for every stored peer; a nonzero return stops the walk and is returned (each
 * must not write to c: the walk is a read). */
int gateway_clients_wg_peer_list(struct gateway_clients *c,
				 int (*each)(void *ctx, const struct gateway_clients_wg_peer *p), void *ctx);

#endif
