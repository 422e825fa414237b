#include "mix/mix_reassembly.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"

struct slot {
	uint8_t *data; /* NULL until the fragment arrives */
	size_t len;
};

struct rset {
	int32_t id;
	uint8_t total;
	uint8_t received;
	bool complete;
	int32_t prev_id; /* from fragment 1, 0 if none */
	int32_t next_id; /* from fragment 255 of 255, 0 if none */
	uint64_t last_ns;
	size_t bytes;	  /* accounted: bookkeeping + data */
	size_t data_len;  /* data bytes alone */
	struct rset *older, *newer; /* activity order */
	struct slot slots[];
};

struct mix_reassembly {
	struct mix_reassembly_config cfg;
	struct mix_reassembly_stats stats;
	/* Open addressing with linear probing; set ids are chosen by remote senders, so the
	 * hash is keyed per instance. */
	struct rset **table;
	size_t table_mask;
	uint64_t hash_key;
	struct rset *oldest, *newest;
	/* Ring of recently completed set ids. */
	int32_t *recent;
	size_t recent_next;
};

static size_t set_overhead(unsigned total)
{
	return sizeof(struct rset) + total * sizeof(struct slot);
}

static size_t hash(const struct mix_reassembly *r, int32_t id)
{
	uint64_t x = ((uint64_t)(uint32_t)id ^ r->hash_key) * 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 32) & r->table_mask;
}

static struct rset *lookup(const struct mix_reassembly *r, int32_t id)
{
	for (size_t i = hash(r, id);; i = (i + 1) & r->table_mask) {
		struct rset *s = r->table[i];
		if (!s || s->id == id)
			return s;
	}
}

static void table_insert(struct mix_reassembly *r, struct rset *s)
{
	size_t i = hash(r, s->id);
	while (r->table[i])
		i = (i + 1) & r->table_mask;
	r->table[i] = s;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void table_remove(struct mix_reassembly *r, int32_t id)
{
	size_t i = hash(r, id);
	while (r->table[i]->id != id)
		i = (i + 1) & r->table_mask;
	size_t hole = i;
	for (size_t j = (hole + 1) & r->table_mask; r->table[j]; j = (j + 1) & r->table_mask) {
		size_t home = hash(r, r->table[j]->id);
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			r->table[hole] = r->table[j];
			hole = j;
		}
	}
	r->table[hole] = NULL;
}

static void lru_unlink(struct mix_reassembly *r, struct rset *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		r->oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		r->newest = s->older;
	s->older = s->newer = NULL;
}

static void lru_push(struct mix_reassembly *r, struct rset *s)
{
	s->older = r->newest;
	s->newer = NULL;
	if (r->newest)
		r->newest->newer = s;
	else
		r->oldest = s;
	r->newest = s;
}

static void set_free(struct mix_reassembly *r, struct rset *s)
{
	table_remove(r, s->id);
	lru_unlink(r, s);
	for (unsigned i = 0; i < s->total; i++)
		free(s->slots[i].data);
	r->stats.bytes -= s->bytes;
	r->stats.sets--;
	free(s);
}

static void remember_completed(struct mix_reassembly *r, int32_t id)
{
	r->recent[r->recent_next] = id;
	r->recent_next = (r->recent_next + 1) % r->cfg.recent_ids;
}

static bool recently_completed(const struct mix_reassembly *r, int32_t id)
{
	for (size_t i = 0; i < r->cfg.recent_ids; i++)
		if (r->recent[i] == id)
			return true;
	return false;
}

int mix_reassembly_new(const struct mix_reassembly_config *cfg, struct mix_reassembly **out)
{
	struct mix_reassembly *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.max_sets)
		r->cfg.max_sets = MIX_REASSEMBLY_DEFAULT_MAX_SETS;
	if (!r->cfg.max_bytes)
		r->cfg.max_bytes = MIX_REASSEMBLY_DEFAULT_MAX_BYTES;
	if (!r->cfg.timeout_ns)
		r->cfg.timeout_ns = MIX_REASSEMBLY_DEFAULT_TIMEOUT_NS;
	if (!r->cfg.recent_ids)
		r->cfg.recent_ids = MIX_REASSEMBLY_DEFAULT_RECENT_IDS;
	/* At most half full, so probes stay short. */
	size_t cap = 16;
	while (cap < 2 * r->cfg.max_sets && cap < (SIZE_MAX >> 2))
		cap <<= 1;
	r->table = calloc(cap, sizeof(*r->table));
	r->recent = calloc(r->cfg.recent_ids, sizeof(*r->recent));
	if (!r->table || !r->recent) {
		mix_reassembly_free(r);
		return -ENOMEM;
	}
	r->table_mask = cap - 1;
	nym_random(&r->hash_key, sizeof(r->hash_key));
	*out = r;
	return 0;
}

void mix_reassembly_free(struct mix_reassembly *r)
{
	if (!r)
		return;
	while (r->oldest)
		set_free(r, r->oldest);
	free(r->table);
	free(r->recent);
	free(r);
}

size_t mix_reassembly_expire(struct mix_reassembly *r, uint64_t now_ns)
{
	size_t n = 0;
	/* The oldest set is the least recently active one, so stop at the first fresh one. */
	while (r->oldest && now_ns - r->oldest->last_ns >= r->cfg.timeout_ns &&
	       now_ns >= r->oldest->last_ns) {
		set_free(r, r->oldest);
		n++;
	}
	r->stats.expired_sets += n;
	return n;
}

/* Evicts least recently active sets other than keep until `need` more bytes and, if
 * new_set, one more set fit. Returns false if that is impossible. */
static bool make_room(struct mix_reassembly *r, const struct rset *keep, size_t need, bool new_set)
{
	for (;;) {
		bool bytes_ok = r->stats.bytes <= r->cfg.max_bytes &&
				need <= r->cfg.max_bytes - r->stats.bytes;
		bool sets_ok = !new_set || r->stats.sets < r->cfg.max_sets;
		if (bytes_ok && sets_ok)
			return true;
		struct rset *victim = r->oldest;
		if (victim && victim == keep)
			victim = victim->newer;
		if (!victim)
			return false;
		set_free(r, victim);
		r->stats.evicted_sets++;
	}
}

/* When the set just completed closes a chain of complete sets, hands the message out. */
static int try_assemble(struct mix_reassembly *r, struct rset *s, struct mix_reassembly_message *out)
{
	struct rset *head = s;
	size_t steps = 0;
	/* A chain cannot be longer than the sets held; longer means a cycle of forged links. */
	while (head->prev_id) {
		struct rset *p = lookup(r, head->prev_id);
		if (!p || !p->complete || p->next_id != head->id || ++steps > r->stats.sets)
			return 0;
		head = p;
	}
	size_t total = 0, count = 0;
	for (struct rset *c = head;;) {
		total += c->data_len;
		count++;
		if (!c->next_id)
			break;
		struct rset *n = lookup(r, c->next_id);
		if (!n || !n->complete || n->prev_id != c->id || count > r->stats.sets)
			return 0;
		c = n;
	}

	uint8_t *msg = malloc(total ? total : 1);
	if (!msg)
		return -ENOMEM;
	size_t off = 0;
	int32_t id = head->id;
	out->first_set_id = id;
	while (id) {
		struct rset *c = lookup(r, id);
		for (unsigned i = 0; i < c->total; i++) {
			memcpy(msg + off, c->slots[i].data, c->slots[i].len);
			off += c->slots[i].len;
		}
		id = c->next_id;
		remember_completed(r, c->id);
		set_free(r, c);
	}
	out->data = msg;
	out->len = total;
	out->sets = count;
	r->stats.messages++;
	return 0;
}

int mix_reassembly_add(struct mix_reassembly *r, const struct mix_fragment *f, uint64_t now_ns,
		       struct mix_reassembly_message *out)
{
	memset(out, 0, sizeof(*out));
	mix_reassembly_expire(r, now_ns);

	if (f->set_id <= 0 || f->total == 0 || f->position == 0 || f->position > f->total ||
	    f->data_len > SIZE_MAX / 2) {
		r->stats.malformed++;
		return -EINVAL;
	}

	bool created = false;
	struct rset *s = lookup(r, f->set_id);
	if (!s) {
		if (recently_completed(r, f->set_id)) {
			r->stats.duplicates++;
			return 0;
		}
		size_t overhead = set_overhead(f->total);
		if (!make_room(r, NULL, overhead + f->data_len, true)) {
			r->stats.dropped++;
			return -ENOBUFS;
		}
		s = calloc(1, overhead);
		if (!s)
			return -ENOMEM;
		s->id = f->set_id;
		s->total = f->total;
		s->bytes = overhead;
		s->last_ns = now_ns;
		table_insert(r, s);
		lru_push(r, s);
		r->stats.sets++;
		r->stats.bytes += overhead;
		created = true;
	} else if (f->total != s->total) {
		r->stats.malformed++;
		return -EINVAL;
	}

	struct slot *slot = &s->slots[f->position - 1];
	if (slot->data) {
		r->stats.duplicates++;
		return 0;
	}
	if (!created && !make_room(r, s, f->data_len, false)) {
		r->stats.dropped++;
		return -ENOBUFS;
	}
	slot->data = malloc(f->data_len ? f->data_len : 1);
	if (!slot->data) {
		if (created)
			set_free(r, s);
		return -ENOMEM;
	}
	if (f->data_len)
		memcpy(slot->data, f->data, f->data_len);
	slot->len = f->data_len;
	if (f->position == 1)
		s->prev_id = f->prev_set_id;
	if (f->position == MIX_FRAGMENT_SET_MAX)
		s->next_id = f->next_set_id;
	s->received++;
	s->data_len += f->data_len;
	s->bytes += f->data_len;
	s->last_ns = now_ns;
	lru_unlink(r, s);
	lru_push(r, s);
	r->stats.bytes += f->data_len;
	r->stats.fragments++;

	if (s->received < s->total)
		return 0;
	s->complete = true;
	return try_assemble(r, s, out);
}

int mix_reassembly_add_bytes(struct mix_reassembly *r, const uint8_t *in, size_t len,
			     uint64_t now_ns, struct mix_reassembly_message *out)
{
	struct mix_fragment f;
	memset(out, 0, sizeof(*out));
	int ret = mix_fragment_decode(in, len, &f);
	if (ret) {
		r->stats.malformed++;
		return ret;
	}
	return mix_reassembly_add(r, &f, now_ns, out);
}

void mix_reassembly_get_stats(const struct mix_reassembly *r, struct mix_reassembly_stats *out)
{
	*out = r->stats;
}
