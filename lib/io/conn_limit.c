#include "io/conn_limit.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

int conn_limit_init(struct conn_limit *l, size_t max_connections, uint32_t per_address,
		    uint64_t handshakes_per_second, uint32_t handshake_burst)
{
	memset(l, 0, sizeof(*l));
	if (max_connections == 0 || sodium_init() < 0)
		return -EINVAL;
	/* Beyond the cap, admissions of new addresses may find their window full (-ENOSPC)
	 * rather than the table taking memory for connections the host could never hold. */
	if (max_connections > CONN_LIMIT_MAX_ENTRIES / 2)
		max_connections = CONN_LIMIT_MAX_ENTRIES / 2;
	/* At least twice the entries that can hold connections, so that the probe window of a
	 * new address almost always has one without, and never fewer than the window. */
	size_t n = CONN_LIMIT_PROBES;
	while (n < 2 * max_connections)
		n *= 2;
	l->entries = calloc(n, sizeof(*l->entries));
	if (!l->entries)
		return -ENOMEM;
	l->mask = (uint32_t)(n - 1);
	randombytes_buf(l->hash_key, sizeof(l->hash_key));
	l->per_address = per_address;
	l->handshake_interval_ns = handshakes_per_second ? NYM_NS_PER_SEC / handshakes_per_second : 0;
	if (handshakes_per_second && !l->handshake_interval_ns)
		l->handshake_interval_ns = 1;
	l->handshake_burst = handshake_burst;
	return 0;
}

void conn_limit_fini(struct conn_limit *l)
{
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

int conn_limit_admit(struct conn_limit *l, const struct sockaddr *peer, uint64_t now_ns, uint32_t *slot)
{
	uint8_t key[NET_ADDR_LIMIT_KEY_LEN];
	int rc = net_addr_limit_key(peer, key);
	if (rc)
		return rc;
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, key, sizeof(key), l->hash_key);
	/* A free entry beats one whose bucket is full, which beats the one that refills first:
	 * reusing an entry forgets its debt, so forget the smallest. */
	uint32_t reuse = UINT32_MAX;
	int reuse_rank = 0;
	uint64_t reuse_full_at = UINT64_MAX;
	for (uint32_t k = 0; k < CONN_LIMIT_PROBES; k++) {
		uint32_t i = (uint32_t)(h + k) & l->mask;
		struct conn_limit_entry *e = &l->entries[i];
		if (e->used && memcmp(e->key, key, sizeof(key)) == 0) {
			uint32_t held = atomic_load_explicit(&e->connections, memory_order_relaxed);
			if (l->per_address && held >= l->per_address)
				return -EUSERS;
			atomic_fetch_add_explicit(&e->connections, 1, memory_order_relaxed);
			*slot = i;
			return 0;
		}
		if (reuse_rank == 3)
			continue;
		if (!e->used) {
			reuse = i;
			reuse_rank = 3;
		} else if (atomic_load_explicit(&e->connections, memory_order_acquire) == 0) {
			uint64_t full_at = atomic_load_explicit(&e->handshakes.full_at_ns, memory_order_relaxed);
			if (full_at <= now_ns && reuse_rank < 2) {
				reuse = i;
				reuse_rank = 2;
			} else if (reuse_rank < 2 && full_at < reuse_full_at) {
				reuse = i;
				reuse_rank = 1;
				reuse_full_at = full_at;
			}
		}
	}
	if (reuse == UINT32_MAX)
		return -ENOSPC;
	struct conn_limit_entry *e = &l->entries[reuse];
	memcpy(e->key, key, sizeof(key));
	e->used = true;
	nym_ratelimit_bucket_reset(&e->handshakes);
	atomic_store_explicit(&e->connections, 1, memory_order_relaxed);
	*slot = reuse;
	return 0;
}

void conn_limit_release(struct conn_limit *l, uint32_t slot)
{
	/* Release: the acceptor that sees zero also sees every handshake token this
	 * connection took, before it may reuse the entry. */
	atomic_fetch_sub_explicit(&l->entries[slot].connections, 1, memory_order_release);
}

bool conn_limit_take_handshake(struct conn_limit *l, uint32_t slot, uint64_t now_ns)
{
	return nym_ratelimit_bucket_take(&l->entries[slot].handshakes, now_ns, l->handshake_interval_ns,
					 l->handshake_burst);
}

uint32_t conn_limit_connections(const struct conn_limit *l, uint32_t slot)
{
	return atomic_load_explicit(&l->entries[slot].connections, memory_order_relaxed);
}

void conn_limit_timer_start(struct conn_limit_timer *t, uint64_t now_ns)
{
	t->opened_ns = now_ns;
	t->last_frame_ns = now_ns;
	t->framed = false;
}

enum conn_limit_expiry conn_limit_timer_check(const struct conn_limit_timer *t, const struct conn_limit_timeouts *to,
					      uint64_t now_ns)
{
	uint64_t since_open = now_ns - t->opened_ns;
	if (!t->framed && to->first_frame_ns && since_open >= to->first_frame_ns &&
	    (!to->idle_ns || to->first_frame_ns <= to->idle_ns))
		return CONN_LIMIT_NO_FIRST_FRAME;
	/* Before the first frame last_frame_ns is the opening time: idleness counts from it. */
	if (to->idle_ns && now_ns - t->last_frame_ns >= to->idle_ns)
		return CONN_LIMIT_IDLE;
	return CONN_LIMIT_LIVE;
}
