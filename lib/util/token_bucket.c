#include "util/token_bucket.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 8
/* Tokens are kept in millionths so slow rates still refill between requests. */
#define UNIT 1000000ull

struct slot {
	uint8_t key[16]; /* address (or /64) with its family byte; all zero when free */
	bool used;
	uint64_t tokens; /* in UNITs */
	uint64_t stamp_ms;
};

struct nym_token_bucket_table {
	size_t n;
	uint64_t rate, period_ms, burst;
	uint8_t hash_key[crypto_shorthash_siphash24_KEYBYTES];
	struct slot *slots;
};

int nym_token_bucket_new(struct nym_token_bucket_table **out, size_t slots, uint64_t rate, uint64_t period_ms,
			  uint64_t burst)
{
	*out = NULL;
	if (!slots || !rate || !period_ms || !burst || burst > UINT64_MAX / UNIT)
		return -EINVAL;
	struct nym_token_bucket_table *t = calloc(1, sizeof(*t));
	if (!t || !(t->slots = calloc(slots, sizeof(*t->slots)))) {
		free(t);
		return -ENOMEM;
	}
	t->n = slots;
	t->rate = rate;
	t->period_ms = period_ms;
	t->burst = burst;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	*out = t;
	return 0;
}

void nym_token_bucket_free(struct nym_token_bucket_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

/* The key an address is counted under; false for families that are not limited. */
static bool address_key(const struct sockaddr *addr, uint8_t key[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(key, 0, 16);
	if (addr->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		return true;
	}
	if (addr->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		if (memcmp(a, mapped, 12) == 0) {
			key[0] = 4;
			memcpy(key + 1, a + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a, 8);
		}
		return true;
	}
	return false;
}

static void refill(const struct nym_token_bucket_table *t, struct slot *s, uint64_t now_ms)
{
	if (now_ms <= s->stamp_ms)
		return;
	uint64_t elapsed = now_ms - s->stamp_ms, full = t->burst * UNIT;
	/* elapsed * rate * UNIT / period, without overflow for any sane elapsed time */
	unsigned __int128 gain = (unsigned __int128)elapsed * t->rate * UNIT / t->period_ms;
	s->tokens = gain >= full - s->tokens ? full : s->tokens + (uint64_t)gain;
	s->stamp_ms = now_ms;
}

bool nym_token_bucket_take(struct nym_token_bucket_table *t, const struct sockaddr *addr, uint64_t now_ms)
{
	uint8_t key[16], h[crypto_shorthash_siphash24_BYTES];
	if (!address_key(addr, key))
		return true;
	crypto_shorthash_siphash24(h, key, sizeof(key), t->hash_key);
	uint64_t start;
	memcpy(&start, h, sizeof(start));
	struct slot *found = NULL, *free_slot = NULL, *idlest = NULL;
	for (size_t i = 0; i < PROBES && i < t->n && !found; i++) {
		struct slot *s = &t->slots[(start + i) % t->n];
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (memcmp(s->key, key, 16) == 0) {
			found = s;
			break;
		}
		refill(t, s, now_ms);
		if (!idlest || s->tokens > idlest->tokens)
			idlest = s;
	}
	if (!found) {
		found = free_slot ? free_slot : idlest;
		memcpy(found->key, key, 16);
		found->used = true;
		found->tokens = t->burst * UNIT;
		found->stamp_ms = now_ms;
	}
	refill(t, found, now_ms);
	if (found->tokens < UNIT)
		return false;
	found->tokens -= UNIT;
	return true;
}
