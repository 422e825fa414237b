#include "util/ratelimit.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_PROBES 8

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

struct table_slot {
	uint8_t key[NYM_RATELIMIT_KEY_LEN];
	bool used;
	struct nym_ratelimit_bucket bucket;
};

struct nym_ratelimit_table {
	size_t n;
	uint64_t interval_ns;
	uint32_t burst;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct table_slot *slots;
};

int nym_ratelimit_table_new(struct nym_ratelimit_table **out, size_t slots, uint64_t interval_ns, uint32_t burst)
{
	*out = NULL;
	if (!slots || !interval_ns || !burst)
		return -EINVAL;
	struct nym_ratelimit_table *t = calloc(1, sizeof(*t));
	if (!t || !(t->slots = calloc(slots, sizeof(*t->slots)))) {
		free(t);
		return -ENOMEM;
	}
	t->n = slots;
	t->interval_ns = interval_ns;
	t->burst = burst;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	*out = t;
	return 0;
}

void nym_ratelimit_table_free(struct nym_ratelimit_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

bool nym_ratelimit_table_take(struct nym_ratelimit_table *t, const uint8_t key[NYM_RATELIMIT_KEY_LEN],
			      uint64_t now_ns)
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, key, NYM_RATELIMIT_KEY_LEN, t->hash_key);
	struct table_slot *found = NULL, *free_slot = NULL, *idlest = NULL;
	for (size_t i = 0; i < TABLE_PROBES && i < t->n; i++) {
		struct table_slot *s = &t->slots[(h + i) % t->n];
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
		} else if (memcmp(s->key, key, NYM_RATELIMIT_KEY_LEN) == 0) {
			found = s;
			break;
		} else if (!idlest || atomic_load_explicit(&s->bucket.full_at_ns, memory_order_relaxed) <
					      atomic_load_explicit(&idlest->bucket.full_at_ns, memory_order_relaxed)) {
			idlest = s;
		}
	}
	if (!found) {
		found = free_slot ? free_slot : idlest;
		memcpy(found->key, key, NYM_RATELIMIT_KEY_LEN);
		found->used = true;
		nym_ratelimit_bucket_reset(&found->bucket);
	}
	return nym_ratelimit_bucket_take(&found->bucket, now_ns, t->interval_ns, t->burst);
}
