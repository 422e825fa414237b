/* Delivery of a gateway's spent reports (docs/PROTOCOLS.md §5.6) to every authority, with
 * retries. The outbox itself is durable: the serials the ticket store has not marked reported
 * (credstore/ticket_store.h), which survive restarts. This engine posts the store's pending
 * report through gateway_tickets_authorities.post_report to each authority that has not taken
 * it, backs off per authority after a refusal (post_report -EACCES: the authority answered
 * no) or a failure (anything else: no answer), doubling from initial_backoff_ms up to
 * max_backoff_ms, and marks the serials reported once every authority took them. Each refusal
 * goes to `complain` and the counters, so an operator sees a gateway the authorities do not
 * know. No sockets, no threads: time is passed in. */
#ifndef NYM_GATEWAY_GATEWAY_OUTBOX_H
#define NYM_GATEWAY_GATEWAY_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "credstore/ticket_store.h"
#include "crypto/ed25519.h"
#include "gateway/gateway_tickets.h"

#define GATEWAY_OUTBOX_AUTHORITIES_MAX 16

struct gateway_outbox_counters {
	uint64_t attempts;  /* reports posted */
	uint64_t delivered; /* ... and taken (200) */
	uint64_t refused;   /* ... answered with another status */
	uint64_t failed;    /* ... without an answer (down, timeout) */
};

struct gateway_outbox {
	const struct gateway_tickets_authorities *a;
	uint64_t initial_backoff_ms, max_backoff_ms;
	/* Per authority: whether it took the report of `last_seq`, and when to try again. */
	uint64_t last_seq;
	bool taken[GATEWAY_OUTBOX_AUTHORITIES_MAX];
	uint64_t next_ms[GATEWAY_OUTBOX_AUTHORITIES_MAX], backoff_ms[GATEWAY_OUTBOX_AUTHORITIES_MAX];
	struct gateway_outbox_counters counters;
};

/* -EINVAL for no authority or more than the maximum. Backoffs 0 take 500 ms and 60 s. */
int gateway_outbox_init(struct gateway_outbox *o, const struct gateway_tickets_authorities *a,
			uint64_t initial_backoff_ms, uint64_t max_backoff_ms);

/* One pass at now_ms (monotonic) and now (Unix, the report's creation time): posts the
 * pending report to every authority that is due. Returns 0 when nothing is pending any more,
 * -EAGAIN when something waits (*next_ms: when to call again), or a store error. */
int gateway_outbox_flush(struct gateway_outbox *o, struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			 int64_t now, uint64_t now_ms, uint64_t *next_ms);

/* Passes until nothing is pending or wait_ms has gone by (sleeping between them). Returns 0,
 * -ETIMEDOUT with reports still pending, or a store error. *delivered counts serials marked
 * reported. */
int gateway_outbox_deliver(struct gateway_outbox *o, struct nym_ticket_store *st, const struct nym_ed25519_keypair *id,
			   uint64_t wait_ms, size_t *delivered);

#endif
