#include "util/ratelimit.h"

bool nym_ratelimit_bucket_take(struct nym_ratelimit_bucket *b, uint64_t now_ns, uint64_t interval_ns,
			       uint32_t burst)
{
	if (interval_ns == 0)
		return true;
	if (burst == 0)
		return false;
	/* How far ahead of now the bucket may already be full and still hold a token; saturated
	 * so that a huge burst means no limit rather than a wrapped one. */
	uint64_t slack = interval_ns > UINT64_MAX / burst ? UINT64_MAX : interval_ns * (burst - 1);
	uint64_t full_at = atomic_load_explicit(&b->full_at_ns, memory_order_relaxed);
	for (;;) {
		uint64_t from = full_at > now_ns ? full_at : now_ns;
		if (from - now_ns > slack)
			return false;
		if (atomic_compare_exchange_weak_explicit(&b->full_at_ns, &full_at, from + interval_ns,
							  memory_order_relaxed, memory_order_relaxed))
			return true;
	}
}

bool nym_ratelimit_bucket_full(const struct nym_ratelimit_bucket *b, uint64_t now_ns)
{
	return atomic_load_explicit(&b->full_at_ns, memory_order_relaxed) <= now_ns;
}

void nym_ratelimit_bucket_reset(struct nym_ratelimit_bucket *b)
{
	atomic_store_explicit(&b->full_at_ns, 0, memory_order_relaxed);
}
