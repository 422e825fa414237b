/* Delivery of a gateway's spent reports (docs/PROTOCOLS.md §5.6) to every authority. The
 * outbox itself is durable: the serials the ticket store has not marked reported
 * (cred/ticket_store.h), which survive restarts. This engine posts the store's pending report
 * to each authority that has not taken it, backs off per authority after a refusal or a
 * failure (doubling from initial_backoff_ms up to max_backoff_ms), and marks the serials
 * reported once every authority answered 200. A refusal is logged with the authority's
 * reason and counted, so an operator sees a gateway the authorities do not know. */
#ifndef NYM_DIRECTORY_SPENT_OUTBOX_H
#define NYM_DIRECTORY_SPENT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "cred/ticket_store.h"
#include "crypto/ed25519.h"

#define NYM_SPENT_OUTBOX_AUTHORITIES_MAX 16

struct nym_spent_outbox_counters {
	uint64_t attempts;  /* reports posted */
	uint64_t delivered; /* ... and taken (200) */
	uint64_t refused;   /* ... answered with another status */
	uint64_t failed;    /* ... without an answer (down, timeout) */
};

struct nym_spent_outbox {
	const char *const *urls; /* the authorities' base URLs */
	size_t n;
	uint64_t initial_backoff_ms, max_backoff_ms;
	long timeout_ms;
	/* Per authority: whether it took the report of `last_seq`, and when to try again. */
	uint64_t last_seq;
	bool taken[NYM_SPENT_OUTBOX_AUTHORITIES_MAX];
	uint64_t next_ms[NYM_SPENT_OUTBOX_AUTHORITIES_MAX], backoff_ms[NYM_SPENT_OUTBOX_AUTHORITIES_MAX];
	struct nym_spent_outbox_counters counters;
};

/* -EINVAL for no authority or more than the maximum. Backoffs 0 take 500 ms and 60 s. */
int nym_spent_outbox_init(struct nym_spent_outbox *o, const char *const *urls, size_t n, uint64_t initial_backoff_ms,
			  uint64_t max_backoff_ms, long timeout_ms);

/* One pass at now_ms (monotonic) and now (Unix, the report's creation time): posts the
 * pending report to every authority that is due. Returns 0 when nothing is pending any more,
 * -EAGAIN when something waits (*next_ms: when to call again), or a store error. */
int nym_spent_outbox_flush(struct nym_spent_outbox *o, struct nym_ticket_store *st,
			   const struct nym_ed25519_keypair *id, int64_t now, uint64_t now_ms, uint64_t *next_ms);

/* Passes until nothing is pending or wait_ms has gone by (sleeping between them). Returns 0,
 * -ETIMEDOUT with reports still pending, or a store error. *delivered counts serials marked
 * reported. */
int nym_spent_outbox_deliver(struct nym_spent_outbox *o, struct nym_ticket_store *st,
			     const struct nym_ed25519_keypair *id, uint64_t wait_ms, size_t *delivered);

#endif
