#include "client/client_surbs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sphinx/sphinx_surb.h"

struct entry {
	uint8_t digest[MIX_REPLY_DIGEST_LEN];
	uint8_t key[MIX_REPLY_KEY_LEN];
	uint64_t expires_ns;
	bool live;
};

struct client_surbs {
	uint64_t lifetime_ns;
	size_t cap;	    /* ring slots = max_keys */
	struct entry *ring; /* [head, head + used) in order of making, some no longer live */
	size_t head, used;
	uint32_t *table; /* ring index + 1; 0 = empty */
	size_t table_mask;
	struct client_surbs_stats stats;
};

static size_t slot_of(const struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN])
{
	uint64_t h;
	memcpy(&h, digest, sizeof(h)); /* a SHA-256 output: uniform already */
	return (size_t)h & s->table_mask;
}

int client_surbs_new(const struct client_surbs_config *cfg, struct client_surbs **out)
{
	size_t max = cfg && cfg->max_keys ? cfg->max_keys : CLIENT_SURBS_DEFAULT_MAX_KEYS;
	if (max > (1u << 30))
		return -EINVAL;
	struct client_surbs *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lifetime_ns = cfg && cfg->lifetime_ns ? cfg->lifetime_ns : CLIENT_SURBS_DEFAULT_LIFETIME_NS;
	s->cap = max;
	size_t tsize = 16;
	while (tsize < 2 * max)
		tsize <<= 1;
	s->table_mask = tsize - 1;
	s->ring = calloc(max, sizeof(*s->ring));
	s->table = calloc(tsize, sizeof(*s->table));
	if (!s->ring || !s->table) {
		client_surbs_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void client_surbs_free(struct client_surbs *s)
{
	if (!s)
		return;
	if (s->ring) {
		nym_memzero(s->ring, s->cap * sizeof(*s->ring));
		free(s->ring);
	}
	free(s->table);
	free(s);
}

/* The table slot holding ring index idx, found by its digest. */
static size_t find_slot(const struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN], size_t *ring_idx)
{
	for (size_t i = slot_of(s, digest);; i = (i + 1) & s->table_mask) {
		uint32_t v = s->table[i];
		if (!v)
			return SIZE_MAX;
		const struct entry *e = &s->ring[v - 1];
		if (nym_ct_equal(e->digest, digest, MIX_REPLY_DIGEST_LEN)) {
			*ring_idx = v - 1;
			return i;
		}
	}
}

/* Linear-probing deletion by backward shift: no tombstones, so probes stay short. */
static void table_delete(struct client_surbs *s, size_t i)
{
	size_t j = i;
	for (;;) {
		j = (j + 1) & s->table_mask;
		uint32_t v = s->table[j];
		if (!v)
			break;
		size_t home = slot_of(s, s->ring[v - 1].digest);
		/* Move v into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			s->table[i] = v;
			i = j;
		}
	}
	s->table[i] = 0;
}

static void forget(struct client_surbs *s, size_t ring_idx)
{
	struct entry *e = &s->ring[ring_idx];
	size_t idx;
	size_t slot = find_slot(s, e->digest, &idx);
	if (slot != SIZE_MAX)
		table_delete(s, slot);
	nym_memzero(e, sizeof(*e));
	s->stats.held--;
}

/* Pops the head of the ring (live or not). */
static void pop_head(struct client_surbs *s, uint64_t *counter)
{
	if (s->ring[s->head].live) {
		forget(s, s->head);
		(*counter)++;
	}
	s->head = (s->head + 1) % s->cap;
	s->used--;
}

size_t client_surbs_expire(struct client_surbs *s, uint64_t now_ns)
{
	size_t n = 0;
	while (s->used) {
		struct entry *e = &s->ring[s->head];
		if (e->live && e->expires_ns > now_ns)
			break;
		if (e->live)
			n++;
		pop_head(s, &s->stats.expired);
	}
	return n;
}

/* Stores a fresh key and writes it to out[0..16). */
static void store_key(struct client_surbs *s, const struct nym_rng *rng, uint64_t now_ns, uint8_t *out)
{
	if (s->used == s->cap)
		pop_head(s, &s->stats.dropped);
	size_t idx = (s->head + s->used) % s->cap;
	struct entry *e = &s->ring[idx];
	/* Drawn until unique: a repeat of a 128-bit key is out of reach, but the table must
	 * never hold one digest twice. */
	size_t other;
	do {
		nym_rng_fill(rng, e->key, MIX_REPLY_KEY_LEN);
		mix_reply_key_digest(e->key, e->digest);
	} while (find_slot(s, e->digest, &other) != SIZE_MAX);
	e->expires_ns = now_ns + s->lifetime_ns < now_ns ? UINT64_MAX : now_ns + s->lifetime_ns;
	e->live = true;
	s->used++;
	size_t i = slot_of(s, e->digest);
	while (s->table[i])
		i = (i + 1) & s->table_mask;
	s->table[i] = (uint32_t)idx + 1;
	memcpy(out, e->key, MIX_REPLY_KEY_LEN);
	s->stats.made++;
	s->stats.held++;
}

int client_surbs_make(struct client_surbs *s, const struct sphinx_hop *route, size_t hops,
		      const uint8_t destination[32], const struct nym_rng *rng, uint64_t now_ns, uint8_t *out,
		      size_t cap, size_t *written)
{
	if (hops < 1 || hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	int rc = client_surbs_make_batch(s, &route, hops, destination, rng, now_ns, out, cap, 1);
	if (!rc)
		*written = CLIENT_SURBS_LEN(hops);
	return rc;
}

#define MAKE_BATCH 16

int client_surbs_make_batch(struct client_surbs *s, const struct sphinx_hop *const *routes, size_t hops,
			    const uint8_t destination[32], const struct nym_rng *rng, uint64_t now_ns, uint8_t *out,
			    size_t cap, size_t n)
{
	static const uint8_t zero_identifier[SPHINX_IDENTIFIER_LEN];
	if (hops < 1 || hops > SPHINX_MAX_HOPS)
		return -EINVAL;
	const size_t len = CLIENT_SURBS_LEN(hops);
	if (n > cap / len)
		return -ENOSPC;
	struct sphinx_surb surbs[MAKE_BATCH];
	int rcs[MAKE_BATCH], rc = 0;
	/* First every SURB, so that a failure stores no key. */
	for (size_t first = 0; first < n && !rc; first += MAKE_BATCH) {
		size_t m = n - first < MAKE_BATCH ? n - first : MAKE_BATCH;
		sphinx_surb_create_batch(surbs, routes + first, hops, destination, zero_identifier, SPHINX_VERSION_259,
					 rng, rcs, m);
		for (size_t j = 0; j < m && !rc; j++) {
			rc = rcs[j];
			if (!rc) {
				int w = sphinx_surb_encode(&surbs[j], out + (first + j) * len + MIX_REPLY_KEY_LEN,
							   len - MIX_REPLY_KEY_LEN);
				rc = w < 0 ? w : 0;
			}
		}
		for (size_t j = 0; j < m; j++)
			sphinx_surb_clear(&surbs[j]);
	}
	if (rc)
		return rc;
	client_surbs_expire(s, now_ns);
	for (size_t k = 0; k < n; k++)
		store_key(s, rng, now_ns, out + k * len);
	return 0;
}

bool client_surbs_known(const struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN], uint64_t now_ns)
{
	size_t idx;
	return find_slot(s, digest, &idx) != SIZE_MAX && s->ring[idx].expires_ns > now_ns;
}

int client_surbs_take(struct client_surbs *s, const uint8_t digest[MIX_REPLY_DIGEST_LEN], uint64_t now_ns,
		      uint8_t key[MIX_REPLY_KEY_LEN])
{
	size_t idx;
	size_t slot = find_slot(s, digest, &idx);
	if (slot == SIZE_MAX)
		return -ENOENT;
	struct entry *e = &s->ring[idx];
	if (e->expires_ns <= now_ns)
		return -ENOENT; /* expire pops it in order */
	memcpy(key, e->key, MIX_REPLY_KEY_LEN);
	forget(s, idx);
	s->stats.taken++;
	return 0;
}

void client_surbs_get_stats(const struct client_surbs *s, struct client_surbs_stats *out)
{
	*out = s->stats;
}
