#include "policy/policy_compile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

void policy_compiled_free(struct policy_compiled *c)
{
	if (!c)
		return;
	free(c->v4);
	free(c->v6);
	free(c->groups);
	free(c->ports);
	free(c->entry_action);
	free(c->open_v4);
	free(c->open_v6);
	memset(c, 0, sizeof(*c));
}

/* Addresses as big-endian byte strings (IPv4 zero-padded to 16 bytes): memcmp orders them. */
struct bound {
	uint8_t b[16];
};

static int bound_cmp(const void *a, const void *b)
{
	return memcmp(((const struct bound *)a)->b, ((const struct bound *)b)->b, 16);
}

/* Adds one; returns false on wrap-around (the input was all ones). */
static bool bytes_inc(uint8_t *b, size_t w)
{
	for (size_t i = w; i-- > 0;) {
		if (++b[i] != 0)
			return true;
	}
	return false;
}

static void bytes_dec(uint8_t *b, size_t w)
{
	for (size_t i = w; i-- > 0;) {
		if (b[i]-- != 0)
			return;
	}
}

static void rule_last(const struct policy_rule *r, size_t w, uint8_t *out)
{
	memcpy(out, r->addr, w);
	for (size_t i = 0; i < w; i++) {
		unsigned bit0 = (unsigned)i * 8;
		if (r->prefix >= bit0 + 8)
			continue;
		uint8_t host = r->prefix <= bit0 ? 0xff : (uint8_t)(0xff >> (r->prefix - bit0));
		out[i] |= host;
	}
}

/* A candidate group being decided for one elementary address range. */
struct port_paint {
	struct policy_port_range *done; /* decided ranges, in discovery order */
	size_t n_done, cap_done;
	struct policy_port_range *gaps; /* undecided ranges (entry unused) */
	size_t n_gaps, cap_gaps;
};

struct scratch {
	struct port_paint paint[2];
	struct policy_port_range *tmp;
	size_t cap_tmp;
	uint32_t icmp_entry, other_entry;
	bool icmp_done, other_done;
};

static int paint_reset(struct port_paint *pp)
{
	pp->n_done = 0;
	pp->n_gaps = 0;
	int rc = nym_array_grow((void **)&pp->gaps, &pp->cap_gaps, 1, sizeof(*pp->gaps));
	if (rc)
		return rc;
	pp->gaps[0] = (struct policy_port_range){ 0, 65535, 0 };
	pp->n_gaps = 1;
	return 0;
}

static int paint_push(struct policy_port_range **arr, size_t *n, size_t *cap, uint16_t lo,
		      uint16_t hi, uint32_t entry)
{
	int rc = nym_array_grow((void **)arr, cap, *n + 1, sizeof(**arr));
	if (rc)
		return rc;
	(*arr)[(*n)++] = (struct policy_port_range){ lo, hi, entry };
	return 0;
}

/* Gives every undecided port of [lo, hi] to `entry`. */
static int paint(struct port_paint *pp, uint16_t lo, uint16_t hi, uint32_t entry)
{
	size_t n = pp->n_gaps;
	for (size_t i = 0; i < n;) {
		struct policy_port_range g = pp->gaps[i];
		if (g.hi < lo || g.lo > hi) {
			i++;
			continue;
		}
		uint16_t a = g.lo > lo ? g.lo : lo;
		uint16_t b = g.hi < hi ? g.hi : hi;
		int rc = paint_push(&pp->done, &pp->n_done, &pp->cap_done, a, b, entry);
		if (rc)
			return rc;
		/* Replace the gap by what is left of it on either side. */
		pp->gaps[i] = pp->gaps[--n];
		pp->n_gaps = n;
		if (g.lo < a && (rc = paint_push(&pp->gaps, &pp->n_gaps, &pp->cap_gaps, g.lo, (uint16_t)(a - 1), 0)))
			return rc;
		if (g.hi > b && (rc = paint_push(&pp->gaps, &pp->n_gaps, &pp->cap_gaps, (uint16_t)(b + 1), g.hi, 0)))
			return rc;
		n = pp->n_gaps;
		/* The swapped-in gap at i (if any) has not been looked at yet; the pieces just
		 * appended do not overlap [a, b]. */
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct policy_port_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts the decided ranges (plus leftover gaps as POLICY_NO_ENTRY) and merges neighbours
 * with the same entry into s->tmp; returns the count through *n. */
static int paint_finish(struct scratch *s, struct port_paint *pp, size_t *n)
{
	for (size_t i = 0; i < pp->n_gaps; i++) {
		int rc = paint_push(&pp->done, &pp->n_done, &pp->cap_done, pp->gaps[i].lo, pp->gaps[i].hi,
				    POLICY_NO_ENTRY);
		if (rc)
			return rc;
	}
	pp->n_gaps = 0;
	qsort(pp->done, pp->n_done, sizeof(*pp->done), range_cmp);
	int rc = nym_array_grow((void **)&s->tmp, &s->cap_tmp, pp->n_done, sizeof(*s->tmp));
	if (rc)
		return rc;
	size_t m = 0;
	for (size_t i = 0; i < pp->n_done; i++) {
		if (m && s->tmp[m - 1].entry == pp->done[i].entry && s->tmp[m - 1].hi + 1u == pp->done[i].lo)
			s->tmp[m - 1].hi = pp->done[i].hi;
		else
			s->tmp[m++] = pp->done[i];
	}
	*n = m;
	return 0;
}

struct builder {
	struct policy_compiled *c;
	size_t cap_v4, cap_v6, cap_groups, cap_ports, cap_open_v4, cap_open_v6;
	uint64_t *group_hash;
	size_t cap_hash;
};

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Finds or adds the group made of ranges tcp[0..nt) (stored in the scratch) and udp. */
static int intern_group(struct builder *b, const struct policy_port_range *tcp, size_t nt,
			const struct policy_port_range *udp, size_t nu, uint32_t icmp,
			uint32_t other, uint32_t *group)
{
	struct policy_compiled *c = b->c;
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, tcp, nt * sizeof(*tcp));
	h = fnv(h, &nt, sizeof(nt));
	h = fnv(h, udp, nu * sizeof(*udp));
	h = fnv(h, &icmp, sizeof(icmp));
	h = fnv(h, &other, sizeof(other));
	for (size_t i = 0; i < c->n_groups; i++) {
		const struct policy_group *g = &c->groups[i];
		if (b->group_hash[i] != h || g->ports_len[0] != nt || g->ports_len[1] != nu ||
		    g->icmp_entry != icmp || g->other_entry != other)
			continue;
		if (memcmp(c->ports + g->ports_off[0], tcp, nt * sizeof(*tcp)) ||
		    memcmp(c->ports + g->ports_off[1], udp, nu * sizeof(*udp)))
			continue;
		*group = (uint32_t)i;
		return 0;
	}
	int rc = nym_array_grow((void **)&c->groups, &b->cap_groups, c->n_groups + 1, sizeof(*c->groups));
	if (!rc)
		rc = nym_array_grow((void **)&b->group_hash, &b->cap_hash, c->n_groups + 1, sizeof(*b->group_hash));
	if (!rc)
		rc = nym_array_grow((void **)&c->ports, &b->cap_ports, c->n_ports + nt + nu, sizeof(*c->ports));
	if (rc)
		return rc;
	struct policy_group *g = &c->groups[c->n_groups];
	g->ports_off[0] = (uint32_t)c->n_ports;
	g->ports_len[0] = (uint32_t)nt;
	memcpy(c->ports + c->n_ports, tcp, nt * sizeof(*tcp));
	c->n_ports += nt;
	g->ports_off[1] = (uint32_t)c->n_ports;
	g->ports_len[1] = (uint32_t)nu;
	memcpy(c->ports + c->n_ports, udp, nu * sizeof(*udp));
	c->n_ports += nu;
	g->icmp_entry = icmp;
	g->other_entry = other;
	b->group_hash[c->n_groups] = h;
	*group = (uint32_t)c->n_groups++;
	return 0;
}

/* The rules of one family by (prefix length, network, order): the rules containing an
 * address are found with one search per prefix length in use (at most 33 or 129) instead
 * of a walk over the whole policy. */
struct rule_key {
	uint8_t prefix;
	uint8_t addr[16];
	uint32_t rule;
};

struct prefix_index {
	struct rule_key *keys;
	size_t n;
	uint8_t lens[129];
	size_t n_lens;
	uint32_t *hits; /* scratch for one address */
};

static int key_cmp(const void *a, const void *b)
{
	const struct rule_key *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int prefix_index_build(struct prefix_index *ix, const struct policy *p, uint8_t family)
{
	memset(ix, 0, sizeof(*ix));
	ix->keys = malloc((p->n_rules ? p->n_rules : 1) * sizeof(*ix->keys));
	ix->hits = malloc((p->n_rules ? p->n_rules : 1) * sizeof(*ix->hits));
	if (!ix->keys || !ix->hits)
		return -ENOMEM;
	bool seen[129] = { false };
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (r->family != family)
			continue;
		struct rule_key *k = &ix->keys[ix->n++];
		memset(k, 0, sizeof(*k));
		k->prefix = r->prefix;
		memcpy(k->addr, r->addr, 16);
		k->rule = (uint32_t)i;
		seen[r->prefix] = true;
	}
	qsort(ix->keys, ix->n, sizeof(*ix->keys), key_cmp);
	for (int len = 0; len <= 128; len++)
		if (seen[len])
			ix->lens[ix->n_lens++] = (uint8_t)len;
	return 0;
}

static void prefix_index_free(struct prefix_index *ix)
{
	free(ix->keys);
	free(ix->hits);
}

/* The rules containing `addr` (16 bytes, IPv4 zero-padded), in policy order, into ix->hits. */
static size_t prefix_index_find(struct prefix_index *ix, const uint8_t *addr)
{
	size_t n = 0;
	for (size_t l = 0; l < ix->n_lens; l++) {
		struct rule_key want;
		memset(&want, 0, sizeof(want));
		want.prefix = ix->lens[l];
		memcpy(want.addr, addr, 16);
		unsigned full = want.prefix / 8, rest = want.prefix % 8;
		if (full < 16) {
			want.addr[full] &= (uint8_t)(0xff << (8 - rest));
			memset(want.addr + full + 1, 0, 15 - full);
		}
		size_t lo = 0, hi = ix->n; /* first key >= (prefix, net, rule 0) */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (key_cmp(&ix->keys[mid], &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < ix->n && ix->keys[lo].prefix == want.prefix && memcmp(ix->keys[lo].addr, want.addr, 16) == 0;
		     lo++)
			ix->hits[n++] = ix->keys[lo].rule;
	}
	qsort(ix->hits, n, sizeof(*ix->hits), u32_cmp);
	return n;
}

/* Decides the elementary range starting at `rep`: its group, and whether it is rejected by
 * network (policy_match.h). */
static int decide(struct builder *b, const struct policy *p, struct scratch *s, struct prefix_index *ix,
		  const uint8_t *rep, uint32_t *group, bool *net_rejected)
{
	int rc;
	if ((rc = paint_reset(&s->paint[0])) || (rc = paint_reset(&s->paint[1])))
		return rc;
	s->icmp_done = s->other_done = false;
	s->icmp_entry = s->other_entry = POLICY_NO_ENTRY;
	size_t nh = prefix_index_find(ix, rep);
	*net_rejected = true; /* no entry: the implicit reject at the end, of every port */
	for (size_t h = 0; h < nh; h++) {
		const struct policy_entry *e = &p->entries[p->rules[ix->hits[h]].entry];
		if (e->action == POLICY_ACCEPT) {
			*net_rejected = false;
			break;
		}
		if (policy_entry_rejects_network(e))
			break;
	}
	for (size_t h = 0; h < nh; h++) {
		if (s->icmp_done && s->other_done && s->paint[0].n_gaps == 0 && s->paint[1].n_gaps == 0)
			break;
		const struct policy_rule *r = &p->rules[ix->hits[h]];
		const struct policy_entry *e = &p->entries[r->entry];
		for (int slot = 0; slot < 2; slot++)
			if ((e->protos & POLICY_PROTO_BIT(slot)) && s->paint[slot].n_gaps &&
			    (rc = paint(&s->paint[slot], e->port_lo, e->port_hi, r->entry)))
				return rc;
		if (!s->icmp_done && (e->protos & POLICY_PROTO_BIT(POLICY_PROTO_ICMP))) {
			s->icmp_done = true;
			s->icmp_entry = r->entry;
		}
		if (!s->other_done && (e->protos & POLICY_PROTO_BIT(POLICY_PROTO_OTHER))) {
			s->other_done = true;
			s->other_entry = r->entry;
		}
	}
	/* TCP goes through s->tmp first, then is copied aside so UDP can reuse s->tmp. */
	size_t nt, nu;
	if ((rc = paint_finish(s, &s->paint[0], &nt)))
		return rc;
	struct policy_port_range *tcp = malloc((nt ? nt : 1) * sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	memcpy(tcp, s->tmp, nt * sizeof(*tcp));
	rc = paint_finish(s, &s->paint[1], &nu);
	if (!rc)
		rc = intern_group(b, tcp, nt, s->tmp, nu, s->icmp_entry, s->other_entry, group);
	free(tcp);
	return rc;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Appends [lo, hi] to the family's open list, merged with its predecessor when adjacent. */
static int add_open(struct builder *b, uint8_t family, const uint8_t *lo, const uint8_t *hi)
{
	struct policy_compiled *c = b->c;
	if (family == POLICY_FAMILY_V4) {
		uint32_t l = be32(lo), h = be32(hi);
		if (c->n_open_v4 && c->open_v4[c->n_open_v4 - 1].hi + 1u == l) {
			c->open_v4[c->n_open_v4 - 1].hi = h;
			return 0;
		}
		int rc = nym_array_grow((void **)&c->open_v4, &b->cap_open_v4, c->n_open_v4 + 1, sizeof(*c->open_v4));
		if (rc)
			return rc;
		c->open_v4[c->n_open_v4++] = (struct policy_v4_span){ l, h };
		return 0;
	}
	if (c->n_open_v6) {
		uint8_t next[16];
		memcpy(next, c->open_v6[c->n_open_v6 - 1].hi, 16);
		if (bytes_inc(next, 16) && memcmp(next, lo, 16) == 0) {
			memcpy(c->open_v6[c->n_open_v6 - 1].hi, hi, 16);
			return 0;
		}
	}
	int rc = nym_array_grow((void **)&c->open_v6, &b->cap_open_v6, c->n_open_v6 + 1, sizeof(*c->open_v6));
	if (rc)
		return rc;
	struct policy_v6_span *r = &c->open_v6[c->n_open_v6++];
	memcpy(r->lo, lo, 16);
	memcpy(r->hi, hi, 16);
	return 0;
}

static int compile_family(struct builder *b, const struct policy *p, struct scratch *s, uint8_t family)
{
	size_t w = family == POLICY_FAMILY_V4 ? 4 : 16;
	size_t nb = 0, cap = 0;
	struct bound *bounds = NULL;
	struct prefix_index ix;
	int rc = prefix_index_build(&ix, p, family);
	if (rc || (rc = nym_array_grow((void **)&bounds, &cap, 1, sizeof(*bounds))))
		goto out;
	memset(&bounds[nb++], 0, sizeof(*bounds));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (r->family != family)
			continue;
		if ((rc = nym_array_grow((void **)&bounds, &cap, nb + 2, sizeof(*bounds))))
			goto out;
		memset(&bounds[nb], 0, sizeof(*bounds));
		memcpy(bounds[nb++].b, r->addr, w);
		struct bound end = { { 0 } };
		rule_last(r, w, end.b);
		if (bytes_inc(end.b, w))
			bounds[nb++] = end;
	}
	qsort(bounds, nb, sizeof(*bounds), bound_cmp);
	size_t u = 0;
	for (size_t i = 0; i < nb; i++)
		if (u == 0 || memcmp(bounds[u - 1].b, bounds[i].b, w) != 0)
			bounds[u++] = bounds[i];
	nb = u;

	struct policy_compiled *c = b->c;
	for (size_t i = 0; i < nb; i++) {
		uint32_t group;
		bool net_rejected;
		if ((rc = decide(b, p, s, &ix, bounds[i].b, &group, &net_rejected)))
			goto out;
		uint8_t hi[16];
		if (i + 1 < nb) {
			memcpy(hi, bounds[i + 1].b, w);
			bytes_dec(hi, w);
		} else {
			memset(hi, 0xff, w);
		}
		if (!net_rejected && (rc = add_open(b, family, bounds[i].b, hi)))
			goto out;
		if (family == POLICY_FAMILY_V4) {
			uint32_t lo32 = (uint32_t)bounds[i].b[0] << 24 | (uint32_t)bounds[i].b[1] << 16 |
					(uint32_t)bounds[i].b[2] << 8 | bounds[i].b[3];
			uint32_t hi32 = (uint32_t)hi[0] << 24 | (uint32_t)hi[1] << 16 | (uint32_t)hi[2] << 8 | hi[3];
			if (c->n_v4 && c->v4[c->n_v4 - 1].group == group) {
				c->v4[c->n_v4 - 1].hi = hi32;
				continue;
			}
			if ((rc = nym_array_grow((void **)&c->v4, &b->cap_v4, c->n_v4 + 1, sizeof(*c->v4))))
				goto out;
			c->v4[c->n_v4++] = (struct policy_v4_range){ lo32, hi32, group };
		} else {
			if (c->n_v6 && c->v6[c->n_v6 - 1].group == group) {
				memcpy(c->v6[c->n_v6 - 1].hi, hi, 16);
				continue;
			}
			if ((rc = nym_array_grow((void **)&c->v6, &b->cap_v6, c->n_v6 + 1, sizeof(*c->v6))))
				goto out;
			struct policy_v6_range *r = &c->v6[c->n_v6++];
			memcpy(r->lo, bounds[i].b, 16);
			memcpy(r->hi, hi, 16);
			r->group = group;
		}
	}
out:
	prefix_index_free(&ix);
	free(bounds);
	return rc;
}

int policy_compile(const struct policy *p, struct policy_compiled *out)
{
	struct policy_compiled c;
	memset(&c, 0, sizeof(c));
	struct builder b = { .c = &c };
	struct scratch s;
	memset(&s, 0, sizeof(s));
	int rc = 0;
	c.entry_action = malloc(p->n_entries ? p->n_entries : 1);
	if (!c.entry_action) {
		rc = -ENOMEM;
		goto out;
	}
	c.n_entries = p->n_entries;
	for (size_t i = 0; i < p->n_entries; i++)
		c.entry_action[i] = (uint8_t)p->entries[i].action;
	if ((rc = compile_family(&b, p, &s, POLICY_FAMILY_V4)) ||
	    (rc = compile_family(&b, p, &s, POLICY_FAMILY_V6)))
		goto out;
out:
	for (int i = 0; i < 2; i++) {
		free(s.paint[i].done);
		free(s.paint[i].gaps);
	}
	free(s.tmp);
	free(b.group_hash);
	if (rc) {
		policy_compiled_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

static uint32_t ports_find(const struct policy_port_range *r, size_t n, uint16_t port)
{
	/* Last range with lo <= port. */
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].lo <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || r[lo - 1].hi < port)
		return POLICY_NO_ENTRY;
	return r[lo - 1].entry;
}

static const struct policy_group *find_group(const struct policy_compiled *c,
					     const struct policy_addr *dst)
{
	size_t lo = 0, hi;
	if (dst->family == POLICY_FAMILY_V4) {
		uint32_t a = (uint32_t)dst->bytes[0] << 24 | (uint32_t)dst->bytes[1] << 16 |
			     (uint32_t)dst->bytes[2] << 8 | dst->bytes[3];
		hi = c->n_v4;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->v4[mid].lo <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || c->v4[lo - 1].hi < a)
			return NULL;
		return c->v4[lo - 1].group < c->n_groups ? &c->groups[c->v4[lo - 1].group] : NULL;
	}
	hi = c->n_v6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(c->v6[mid].lo, dst->bytes, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || memcmp(c->v6[lo - 1].hi, dst->bytes, 16) < 0)
		return NULL;
	return c->v6[lo - 1].group < c->n_groups ? &c->groups[c->v6[lo - 1].group] : NULL;
}

void policy_compiled_lookup(const struct policy_compiled *c, const struct policy_addr *dst,
			    enum policy_proto proto, uint16_t port, struct policy_verdict *out)
{
	out->accept = false;
	out->entry = POLICY_NO_ENTRY;
	const struct policy_group *g = find_group(c, dst);
	if (!g)
		return;
	uint32_t e;
	switch (proto) {
	case POLICY_PROTO_TCP:
	case POLICY_PROTO_UDP:
		e = ports_find(c->ports + g->ports_off[proto], g->ports_len[proto], port);
		break;
	case POLICY_PROTO_ICMP:
		e = g->icmp_entry;
		break;
	default:
		e = g->other_entry;
		break;
	}
	out->entry = e;
	out->accept = e < c->n_entries && c->entry_action[e] == POLICY_ACCEPT;
}

bool policy_compiled_network_rejected(const struct policy_compiled *c, const struct policy_addr *dst)
{
	size_t lo = 0, hi;
	if (dst->family == POLICY_FAMILY_V4) {
		uint32_t a = be32(dst->bytes);
		hi = c->n_open_v4;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->open_v4[mid].lo <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo == 0 || c->open_v4[lo - 1].hi < a;
	}
	hi = c->n_open_v6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(c->open_v6[mid].lo, dst->bytes, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 || memcmp(c->open_v6[lo - 1].hi, dst->bytes, 16) < 0;
}

void policy_compiled_decide(const struct policy_compiled *c, const struct policy_addr *dst,
			    enum policy_proto proto, uint16_t port, struct policy_verdict *out, bool *exempt)
{
	policy_compiled_lookup(c, dst, proto, port, out);
	*exempt = false;
	if (!out->accept && policy_dns_icmp_class(proto, port) && !policy_compiled_network_rejected(c, dst)) {
		out->accept = true;
		*exempt = true;
	}
}

bool policy_group_ports_uniform(const struct policy_compiled *c, const struct policy_group *g,
				int slot, uint32_t *entry)
{
	if (g->ports_len[slot] != 1)
		return false;
	*entry = c->ports[g->ports_off[slot]].entry;
	return true;
}

bool policy_group_uniform(const struct policy_compiled *c, const struct policy_group *g,
			  uint32_t *entry)
{
	uint32_t t, u;
	if (!policy_group_ports_uniform(c, g, 0, &t) || !policy_group_ports_uniform(c, g, 1, &u))
		return false;
	if (t != u || g->icmp_entry != t || g->other_entry != t)
		return false;
	*entry = t;
	return true;
}

void policy_compiled_used(const struct policy_compiled *c, bool *used)
{
	memset(used, 0, c->n_entries * sizeof(*used));
	for (size_t i = 0; i < c->n_ports; i++)
		if (c->ports[i].entry < c->n_entries)
			used[c->ports[i].entry] = true;
	for (size_t g = 0; g < c->n_groups; g++) {
		if (c->groups[g].icmp_entry < c->n_entries)
			used[c->groups[g].icmp_entry] = true;
		if (c->groups[g].other_entry < c->n_entries)
			used[c->groups[g].other_entry] = true;
	}
}
