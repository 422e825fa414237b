#include "client/client_ack.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define NOT_IN_HEAP UINT32_MAX
#define EMPTY_SLOT 0u
/* Entry indices and slot numbers are 32-bit; the table has at most 2^29 slots. */
#define MAX_TRACKED_LIMIT ((size_t)1 << 28)

struct entry {
	struct mix_fragment_id id;
	uint64_t deadline_ns;
	uint32_t retransmissions;
	uint32_t heap_pos; /* NOT_IN_HEAP while awaiting re-arm */
};

struct client_ack {
	struct client_ack_config cfg;
	uint64_t hash_key;
	struct entry *entries; /* cfg.max_tracked */
	uint32_t *free_list;   /* unused entry indices, a stack */
	size_t free_len;
	uint32_t *slots; /* entry index + 1, EMPTY_SLOT if free; slot_mask + 1 of them */
	size_t slot_mask;
	uint32_t *heap; /* entry indices ordered by deadline */
	size_t heap_len;
	struct client_ack_stats stats;
};

void client_ack_config_default(struct client_ack_config *cfg)
{
	*cfg = (struct client_ack_config){
		.ack_wait_multiplier = CLIENT_ACK_DEFAULT_WAIT_MULTIPLIER,
		.ack_wait_addition_ns = CLIENT_ACK_DEFAULT_WAIT_ADDITION_NS,
		.max_retransmissions = CLIENT_ACK_DEFAULT_MAX_RETRANSMISSIONS,
		.max_tracked = CLIENT_ACK_DEFAULT_MAX_TRACKED,
	};
}

int client_ack_new(const struct client_ack_config *cfg, const struct nym_rng *rng, struct client_ack **out)
{
	*out = NULL;
	if (!(cfg->ack_wait_multiplier >= 0) || !isfinite(cfg->ack_wait_multiplier) || cfg->max_tracked == 0 ||
	    cfg->max_tracked > MAX_TRACKED_LIMIT)
		return -EINVAL;
	size_t slots = 1;
	while (slots < 2 * cfg->max_tracked)
		slots <<= 1;

	struct client_ack *a = calloc(1, sizeof(*a));
	int err = -ENOMEM;
	if (!a)
		return err;
	a->cfg = *cfg;
	a->entries = calloc(cfg->max_tracked, sizeof(*a->entries));
	a->free_list = calloc(cfg->max_tracked, sizeof(*a->free_list));
	a->slots = calloc(slots, sizeof(*a->slots));
	a->heap = calloc(cfg->max_tracked, sizeof(*a->heap));
	if (!a->entries || !a->free_list || !a->slots || !a->heap)
		goto fail;
	a->slot_mask = slots - 1;
	for (size_t i = 0; i < cfg->max_tracked; i++)
		a->free_list[i] = (uint32_t)(cfg->max_tracked - 1 - i);
	a->free_len = cfg->max_tracked;
	nym_rng_fill(rng, &a->hash_key, sizeof(a->hash_key));
	*out = a;
	return 0;
fail:
	client_ack_free(a);
	return err;
}

void client_ack_free(struct client_ack *a)
{
	if (!a)
		return;
	free(a->entries);
	free(a->free_list);
	free(a->slots);
	free(a->heap);
	free(a);
}

/* splitmix64's finaliser over the id xor a random key: set ids travel in the clear inside
 * fragments, so without the key an observer could predict which ids collide. */
static size_t slot_of(const struct client_ack *a, const struct mix_fragment_id *id)
{
	uint64_t x = (((uint64_t)(uint32_t)id->set_id << 8) | id->position) ^ a->hash_key;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x & a->slot_mask;
}

static bool same_id(const struct mix_fragment_id *x, const struct mix_fragment_id *y)
{
	return x->set_id == y->set_id && x->position == y->position;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t find_slot(const struct client_ack *a, const struct mix_fragment_id *id)
{
	size_t s = slot_of(a, id);
	while (a->slots[s] != EMPTY_SLOT && !same_id(&a->entries[a->slots[s] - 1].id, id))
		s = (s + 1) & a->slot_mask;
	return s;
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
static void remove_slot(struct client_ack *a, size_t hole)
{
	size_t s = hole;
	for (;;) {
		s = (s + 1) & a->slot_mask;
		if (a->slots[s] == EMPTY_SLOT)
			break;
		size_t home = slot_of(a, &a->entries[a->slots[s] - 1].id);
		/* Move the entry at s into the hole unless its home lies cyclically in (hole, s]. */
		bool stays = hole <= s ? (hole < home && home <= s) : (hole < home || home <= s);
		if (!stays) {
			a->slots[hole] = a->slots[s];
			hole = s;
		}
	}
	a->slots[hole] = EMPTY_SLOT;
}

static bool earlier(const struct client_ack *a, uint32_t x, uint32_t y)
{
	return a->entries[x].deadline_ns < a->entries[y].deadline_ns;
}

static void heap_place(struct client_ack *a, size_t pos, uint32_t e)
{
	a->heap[pos] = e;
	a->entries[e].heap_pos = (uint32_t)pos;
}

static void sift_up(struct client_ack *a, size_t pos)
{
	uint32_t e = a->heap[pos];
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (!earlier(a, e, a->heap[parent]))
			break;
		heap_place(a, pos, a->heap[parent]);
		pos = parent;
	}
	heap_place(a, pos, e);
}

static void sift_down(struct client_ack *a, size_t pos)
{
	uint32_t e = a->heap[pos];
	for (;;) {
		size_t child = 2 * pos + 1;
		if (child >= a->heap_len)
			break;
		if (child + 1 < a->heap_len && earlier(a, a->heap[child + 1], a->heap[child]))
			child++;
		if (!earlier(a, a->heap[child], e))
			break;
		heap_place(a, pos, a->heap[child]);
		pos = child;
	}
	heap_place(a, pos, e);
}

static void heap_push(struct client_ack *a, uint32_t e)
{
	a->heap[a->heap_len++] = e;
	sift_up(a, a->heap_len - 1);
}

static void heap_remove(struct client_ack *a, uint32_t e)
{
	size_t pos = a->entries[e].heap_pos;
	a->entries[e].heap_pos = NOT_IN_HEAP;
	uint32_t last = a->heap[--a->heap_len];
	if (pos == a->heap_len)
		return;
	heap_place(a, pos, last);
	if (pos > 0 && earlier(a, last, a->heap[(pos - 1) / 2]))
		sift_up(a, pos);
	else
		sift_down(a, pos);
}

static uint64_t deadline(const struct client_ack *a, uint64_t expected_delay_ns, uint64_t now_ns)
{
	double wait = a->cfg.ack_wait_multiplier * (double)expected_delay_ns + (double)a->cfg.ack_wait_addition_ns;
	double at = (double)now_ns + wait;
	if (at >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)at;
}

/* Removes a tracked entry from all three structures. */
static void drop(struct client_ack *a, size_t slot)
{
	uint32_t e = a->slots[slot] - 1;
	if (a->entries[e].heap_pos != NOT_IN_HEAP)
		heap_remove(a, e);
	else
		a->stats.awaiting_rearm--;
	remove_slot(a, slot);
	a->free_list[a->free_len++] = e;
	a->stats.tracked--;
}

int client_ack_track(struct client_ack *a, const struct mix_fragment_id *id, uint64_t expected_delay_ns,
		     uint64_t now_ns)
{
	if (mix_fragment_id_is_cover(id))
		return -EINVAL;
	size_t slot = find_slot(a, id);
	if (a->slots[slot] != EMPTY_SLOT)
		return -EEXIST;
	if (a->free_len == 0) {
		a->stats.refused_full++;
		return -ENOBUFS;
	}
	uint32_t e = a->free_list[--a->free_len];
	a->entries[e] = (struct entry){ .id = *id, .deadline_ns = deadline(a, expected_delay_ns, now_ns) };
	a->slots[slot] = e + 1;
	heap_push(a, e);
	a->stats.tracked++;
	a->stats.tracked_total++;
	return 0;
}

int client_ack_received(struct client_ack *a, const struct mix_fragment_id *id)
{
	if (mix_fragment_id_is_cover(id)) {
		a->stats.cover_acks++;
		return -ENOENT;
	}
	size_t slot = find_slot(a, id);
	if (a->slots[slot] == EMPTY_SLOT) {
		a->stats.unmatched_acks++;
		return -ENOENT;
	}
	drop(a, slot);
	a->stats.acked++;
	return 0;
}

size_t client_ack_expire(struct client_ack *a, uint64_t now_ns, struct client_ack_due *out, size_t max)
{
	size_t n = 0;
	while (n < max && a->heap_len > 0 && a->entries[a->heap[0]].deadline_ns <= now_ns) {
		uint32_t e = a->heap[0];
		struct entry *en = &a->entries[e];
		out[n] = (struct client_ack_due){ .id = en->id, .retransmissions = en->retransmissions };
		if (en->retransmissions >= a->cfg.max_retransmissions) {
			out[n].failed = true;
			drop(a, find_slot(a, &en->id));
			a->stats.failed++;
		} else {
			heap_remove(a, e);
			a->stats.awaiting_rearm++;
		}
		n++;
	}
	return n;
}

uint64_t client_ack_next_deadline(const struct client_ack *a)
{
	return a->heap_len > 0 ? a->entries[a->heap[0]].deadline_ns : UINT64_MAX;
}

int client_ack_rearm(struct client_ack *a, const struct mix_fragment_id *id, uint64_t expected_delay_ns,
		     uint64_t now_ns)
{
	size_t slot = find_slot(a, id);
	if (a->slots[slot] == EMPTY_SLOT)
		return -ENOENT;
	uint32_t e = a->slots[slot] - 1;
	if (a->entries[e].heap_pos != NOT_IN_HEAP)
		return -EALREADY;
	a->entries[e].retransmissions++;
	a->entries[e].deadline_ns = deadline(a, expected_delay_ns, now_ns);
	heap_push(a, e);
	a->stats.awaiting_rearm--;
	a->stats.retransmissions++;
	return 0;
}

int client_ack_forget(struct client_ack *a, const struct mix_fragment_id *id)
{
	size_t slot = find_slot(a, id);
	if (a->slots[slot] == EMPTY_SLOT)
		return -ENOENT;
	drop(a, slot);
	a->stats.forgotten++;
	return 0;
}

void client_ack_get_stats(const struct client_ack *a, struct client_ack_stats *out)
{
	*out = a->stats;
}
