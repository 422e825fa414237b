/* The gateway's ticket store (spec/blind-rsa.md §7.3, spending): verifies a presented ticket
 * against the directory's issuer keys, refuses a serial it has accepted before or that the
 * authorities' merged spent filter holds, and records each accepted serial durably before the
 * caller grants anything. Accepted serials queue up for reporting to the authorities, in a
 * signed report (cred/spent_report.h), until acknowledged.
 *
 * SQLite in WAL mode with synchronous=FULL: nym_ticket_store_spend returns 0 only after the
 * serial's insert has committed, so a serial that was acknowledged survives a crash or power
 * cut, and is refused after a restart. The store is keyed on the serial only, never on the
 * prefix or signature (a client can get two signatures over one serial).
 *
 * One struct per thread; several threads or processes may open the same file. */
#ifndef NYM_CREDSTORE_TICKET_STORE_H
#define NYM_CREDSTORE_TICKET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cred/issuer_keyset.h"
#include "cred/spent_report.h"
#include "crypto/ed25519.h"

struct nym_ticket_store;

struct nym_ticket_store_counters {
	uint64_t accepted;
	uint64_t malformed;	/* -EINVAL */
	uint64_t wrong_type;	/* -EPERM */
	uint64_t expired;	/* -EKEYEXPIRED */
	uint64_t unknown_key;	/* -ENOKEY */
	uint64_t bad_signature; /* -EBADMSG */
	uint64_t spent_here;	/* -EALREADY, seen by this gateway */
	uint64_t spent_filter;	/* -EALREADY, in the authorities' merged filter */
};

int nym_ticket_store_open(struct nym_ticket_store **out, const char *path);
void nym_ticket_store_close(struct nym_ticket_store *st);

/* Verifies the ticket (nym_issuer_keyset_verify_ticket) and, only then, checks the merged
 * filter and inserts its serial in one committed transaction. Returns 0 when the ticket was
 * accepted and recorded (grant its allowance now), -EALREADY when its serial was spent, the
 * verification errors (-EINVAL, -EPERM, -EKEYEXPIRED, -ENOKEY, -EBADMSG), or a database
 * error (-EBUSY, -EIO, -ENOSPC), after which nothing may be granted. */
int nym_ticket_store_spend(struct nym_ticket_store *st, const struct nym_issuer_keyset *keys,
			   const uint8_t *ticket, size_t len, int64_t now, unsigned accepted_types,
			   struct nym_ticket_msg *msg);

/* nym_ticket_store_spend in two halves, for a caller that records its own intent durably
 * in between (the gateway's crash-safe credit, gateway_clients_spend_ticket). check verifies
 * the ticket and looks the serial up in the filter and the store, writing nothing: 0 with
 * *msg, or spend's refusals and errors. record inserts a checked serial in one committed
 * transaction: 0 (grant now), -EALREADY (recorded meanwhile) or a database error. */
int nym_ticket_store_check(struct nym_ticket_store *st, const struct nym_issuer_keyset *keys,
			   const uint8_t *ticket, size_t len, int64_t now, unsigned accepted_types,
			   struct nym_ticket_msg *msg);
int nym_ticket_store_record(struct nym_ticket_store *st, const struct nym_ticket_msg *m, int64_t now);

/* Whether this store recorded serial as spent (the authorities' filter is not consulted). */
int nym_ticket_store_is_spent(struct nym_ticket_store *st, const uint8_t serial[NYM_TICKET_SERIAL_LEN],
			      bool *spent);

/* A short English reason for a refusal code of nym_ticket_store_spend (or of ticket
 * verification), for messages and JSON answers. */
const char *nym_ticket_store_refusal_text(int rc);

/* Replaces the merged spent filter (the body of GET /v1/spent-filter, a serialized
 * util/bloom) and keeps it in the database, so it survives restarts. */
int nym_ticket_store_set_filter(struct nym_ticket_store *st, const uint8_t *data, size_t len,
				int64_t now);

/* Builds a signed report of up to NYM_SPENT_REPORT_MAX unreported serials, oldest first,
 * into out (NYM_SPENT_REPORT_MAX_LEN bytes suffice). *last_seq identifies the last entry for
 * nym_ticket_store_report_done. -ENOENT when nothing waits. */
int nym_ticket_store_report(struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			    int64_t now, uint8_t *out, size_t cap, size_t *out_len,
			    uint64_t *last_seq);
/* After an authority acknowledged a report: its entries are not reported again. */
int nym_ticket_store_report_done(struct nym_ticket_store *st, uint64_t last_seq);

/* Forgets serials whose tickets expired: every gateway refuses those anyway. */
int nym_ticket_store_prune(struct nym_ticket_store *st, int64_t now);

void nym_ticket_store_counters(const struct nym_ticket_store *st,
			       struct nym_ticket_store_counters *out);
int nym_ticket_store_pending_reports(struct nym_ticket_store *st, uint64_t *count);

#endif
