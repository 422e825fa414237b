/* Rate limits that threads share without a lock.
 *
 * A token bucket in one word (the "generic cell rate algorithm" form): the bucket stores the
 * time at which it will be full again. Taking a token moves that time one interval later; a
 * take is refused when it would lie more than `burst` intervals ahead of now. This is a bucket
 * of `burst` tokens refilled by one every interval, updated with one compare-and-swap, so
 * a table of them costs 8 bytes per key and any thread may take from any bucket. Used by
 * the log rate limit (util/log.h) and the mixnet listener's handshake budgets
 * (io/conn_limit.h). */
#ifndef NYM_UTIL_RATELIMIT_H
#define NYM_UTIL_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
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

#endif
