/* Rate limits that threads share without a lock.
 *
 * A token bucket in one word (the "generic cell rate algorithm" form): the bucket stores the
 * time at which it will be full again. Taking a token moves that time one interval later; a
 * take is refused when it would lie more than `burst` intervals ahead of now. This is a bucket
 * of `burst` tokens refilled by one every interval, updated with one compare-and-swap, so
 * a table of them costs 8 bytes per key and any thread may take from any bucket. Used by
 * the log rate limit (util/log.h), the mixnet listener's handshake budgets
 * (io/conn_limit.h) and, through the keyed table below, the authority's registrations per
 * source address. */
#ifndef NYM_UTIL_RATELIMIT_H
#define NYM_UTIL_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nym_ratelimit_bucket {
	_Atomic uint64_t full_at_ns; /* 0 (or any time not after now): full */
};

/* Takes one token at now_ns (a monotonic clock shared by the callers). interval_ns 0 means
 * no limit; burst 0 refuses everything. Returns whether the token was granted. */
bool nym_ratelimit_bucket_take(struct nym_ratelimit_bucket *b, uint64_t now_ns, uint64_t interval_ns,
			       uint32_t burst);
/* Whether every token is back at now_ns: forgetting such a bucket loses nothing. */
bool nym_ratelimit_bucket_full(const struct nym_ratelimit_bucket *b, uint64_t now_ns);
void nym_ratelimit_bucket_reset(struct nym_ratelimit_bucket *b);

/* Buckets per key (an address's net_addr_limit_key, say) in a table of fixed size. The slots
 * are found through a hash keyed at random (nobody can aim at one slot) and probed a few at a
 * time; when every probed slot is taken, the slot whose bucket refills first (the idlest key)
 * is forgotten, so memory stays fixed and a forgotten key starts again with a full bucket.
 * Not thread-safe: the caller serialises takes. */
#define NYM_RATELIMIT_KEY_LEN 16
struct nym_ratelimit_table;

/* Returns 0, -EINVAL (no slots, a zero interval or burst) or -ENOMEM. */
int nym_ratelimit_table_new(struct nym_ratelimit_table **out, size_t slots, uint64_t interval_ns, uint32_t burst);
void nym_ratelimit_table_free(struct nym_ratelimit_table *t);
/* Takes a token for the key at now_ns; true when the request may go ahead. */
bool nym_ratelimit_table_take(struct nym_ratelimit_table *t, const uint8_t key[NYM_RATELIMIT_KEY_LEN],
			      uint64_t now_ns);

#endif
