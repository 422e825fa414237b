#include "nft/nft_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft_dump.h"
#include "nft/nft_index.h"

#define END_CHAIN "policy_end"
#define REFUSE_CHAIN "policy_refuse"
#define DNS_ICMP_CHAIN "policy_dns_icmp"
#define OPEN_V4 "policy_open_v4"
#define OPEN_V6 "policy_open_v6"

static void entry_chain(const struct policy *p, uint32_t e, char *out, size_t cap)
{
	if (e == POLICY_NO_ENTRY) {
		snprintf(out, cap, END_CHAIN);
		return;
	}
	const struct policy_entry *en = &p->entries[e];
	bool alone = !((e > 0 && p->entries[e - 1].line == en->line) ||
		       (e + 1 < p->n_entries && p->entries[e + 1].line == en->line));
	if (alone)
		snprintf(out, cap, "policy_l%u", en->line);
	else
		snprintf(out, cap, "policy_l%uc%u", en->line, en->column);
}

static void group_target(const struct policy *p, const struct policy_compiled *c, uint32_t g, char *out,
			 size_t cap)
{
	uint32_t e;
	if (policy_group_uniform(c, &c->groups[g], &e))
		entry_chain(p, e, out, cap);
	else
		snprintf(out, cap, "policy_g%u", g);
}

static void emit_entry(struct nft_ruleset *rs, const struct policy *p, uint32_t e, bool *need_refuse)
{
	char name[NFT_NAME_LEN], comment[NFT_COMMENT_LEN];
	entry_chain(p, e, name, sizeof(name));
	if (e == POLICY_NO_ENTRY)
		snprintf(comment, sizeof(comment), "end of policy: implicit reject");
	else
		snprintf(comment, sizeof(comment), "line %u: %.100s", p->entries[e].line, p->entries[e].text);
	nft_add_chain(rs, name, comment);
	struct nft_rule *r;
	if (e != POLICY_NO_ENTRY && p->entries[e].action == POLICY_ACCEPT) {
		const struct policy_limit *lim = &p->entries[e].limit;
		if (lim->rate) {
			/* Long enough that an expiring element never hands back tokens early. */
			uint64_t refill_ms = ((uint64_t)lim->burst * lim->unit_s * 1000 + lim->rate - 1) / lim->rate;
			uint32_t timeout = refill_ms < 1000 ? 1000 : refill_ms > 86400000 ? 86400000 : (uint32_t)refill_ms;
			for (int fam = 0; fam < 2; fam++) {
				char set[NFT_NAME_LEN];
				snprintf(set, sizeof(set), "%.48s_%s", name, fam ? "v6" : "v4");
				struct nft_set *s = nft_add_set(rs, set, fam ? NFT_KEY_IPV6 : NFT_KEY_IPV4, false, false);
				s->dynamic = true;
				s->timeout_ms = timeout;
				s->size = 65535;
				r = nft_add_rule(rs, name, fam ? "over the limit (IPv6)" : "over the limit (IPv4)");
				nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_NEW, NULL);
				nft_rule_limit(rs, r, fam ? NFT_V6 : NFT_V4, set, lim->rate, lim->unit_s, lim->burst);
				nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
				nft_rule_stmt(rs, r, NFT_V_GOTO, 0, REFUSE_CHAIN);
			}
			*need_refuse = true;
		}
		r = nft_add_rule(rs, name, NULL);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
		return;
	}
	r = nft_add_rule(rs, name, NULL);
	nft_rule_stmt(rs, r, NFT_M_L4PROTO, IPPROTO_TCP, NULL);
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_REJECT_TCP, 0, NULL);
	r = nft_add_rule(rs, name, NULL);
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_REJECT_PORT, 0, NULL);
}

static void emit_ports(struct nft_ruleset *rs, const struct policy *p, const struct policy_compiled *c,
		       uint32_t g, int slot, bool *used)
{
	const struct policy_group *grp = &c->groups[g];
	uint8_t l4 = slot == 0 ? IPPROTO_TCP : IPPROTO_UDP;
	const char *proto = slot == 0 ? "tcp" : "udp";
	char gname[NFT_NAME_LEN], target[NFT_NAME_LEN];
	snprintf(gname, sizeof(gname), "policy_g%u", g);
	uint32_t e;
	if (policy_group_ports_uniform(c, grp, slot, &e)) {
		entry_chain(p, e, target, sizeof(target));
		used[e == POLICY_NO_ENTRY ? p->n_entries : e] = true;
		struct nft_rule *r = nft_add_rule(rs, gname, proto);
		nft_rule_stmt(rs, r, NFT_M_L4PROTO, l4, NULL);
		nft_rule_stmt(rs, r, NFT_V_GOTO, 0, target);
		return;
	}
	char map[NFT_NAME_LEN];
	snprintf(map, sizeof(map), "%.48s_%s", gname, proto);
	struct nft_set *s = nft_add_set(rs, map, NFT_KEY_PORT, true, true);
	const struct policy_port_range *pr = c->ports + grp->ports_off[slot];
	for (uint32_t i = 0; i < grp->ports_len[slot]; i++) {
		entry_chain(p, pr[i].entry, target, sizeof(target));
		used[pr[i].entry == POLICY_NO_ENTRY ? p->n_entries : pr[i].entry] = true;
		uint16_t lo = htons(pr[i].lo), hi = htons(pr[i].hi);
		nft_set_add(rs, s, &lo, &hi, NFT_VERDICT_GOTO, target);
	}
	struct nft_rule *r = nft_add_rule(rs, gname, proto);
	nft_rule_stmt(rs, r, NFT_V_VMAP_DPORT, l4, map);
}

int nft_policy_emit(struct nft_ruleset *rs, const struct policy *p, const struct policy_compiled *c)
{
	bool *used = calloc(p->n_entries + 1, sizeof(*used)); /* [n_entries] is the implicit end */
	if (!used)
		return rs->error = -ENOMEM;
	char target[NFT_NAME_LEN];

	nft_add_chain(rs, NFT_POLICY_CHAIN, "exit policy: destination address, then port");
	/* DNS and ping first, to every address the policy does not reject by network. */
	struct nft_set *o4 = nft_add_set(rs, OPEN_V4, NFT_KEY_IPV4, true, false);
	struct nft_set *o6 = nft_add_set(rs, OPEN_V6, NFT_KEY_IPV6, true, false);
	for (size_t i = 0; i < c->n_open_v4; i++) {
		uint32_t lo = htonl(c->open_v4[i].lo), hi = htonl(c->open_v4[i].hi);
		nft_set_add(rs, o4, &lo, &hi, NFT_VERDICT_NONE, NULL);
	}
	for (size_t i = 0; i < c->n_open_v6; i++)
		nft_set_add(rs, o6, c->open_v6[i].lo, c->open_v6[i].hi, NFT_VERDICT_NONE, NULL);
	nft_add_chain(rs, DNS_ICMP_CHAIN, "DNS and ping pass to networks the policy does not reject whole");
	struct nft_rule *r;
	for (int t = 0; t < 2; t++) {
		r = nft_add_rule(rs, DNS_ICMP_CHAIN, t ? "dns (udp)" : "dns (tcp)");
		nft_rule_dport(rs, r, t ? IPPROTO_UDP : IPPROTO_TCP, 53);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	}
	for (int fam = 0; fam < 2; fam++) {
		r = nft_add_rule(rs, DNS_ICMP_CHAIN, fam ? "ping (IPv6)" : "ping");
		nft_rule_stmt(rs, r, NFT_M_ICMP_ECHO, fam ? NFT_V6 : NFT_V4, NULL);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	}
	for (int fam = 0; fam < 2; fam++) {
		r = nft_add_rule(rs, NFT_POLICY_CHAIN, fam ? "open (IPv6)" : "open");
		nft_rule_stmt(rs, r, NFT_M_DADDR_SET, fam ? NFT_V6 : NFT_V4, fam ? OPEN_V6 : OPEN_V4);
		nft_rule_stmt(rs, r, NFT_V_JUMP, 0, DNS_ICMP_CHAIN);
	}
	struct nft_set *v4 = nft_add_set(rs, "policy_v4", NFT_KEY_IPV4, true, true);
	struct nft_set *v6 = nft_add_set(rs, "policy_v6", NFT_KEY_IPV6, true, true);
	for (size_t i = 0; i < c->n_v4; i++) {
		uint32_t lo = htonl(c->v4[i].lo), hi = htonl(c->v4[i].hi);
		group_target(p, c, c->v4[i].group, target, sizeof(target));
		nft_set_add(rs, v4, &lo, &hi, NFT_VERDICT_GOTO, target);
	}
	for (size_t i = 0; i < c->n_v6; i++) {
		group_target(p, c, c->v6[i].group, target, sizeof(target));
		nft_set_add(rs, v6, c->v6[i].lo, c->v6[i].hi, NFT_VERDICT_GOTO, target);
	}
	r = nft_add_rule(rs, NFT_POLICY_CHAIN, NULL);
	nft_rule_stmt(rs, r, NFT_V_VMAP_DADDR, NFT_V4, "policy_v4");
	r = nft_add_rule(rs, NFT_POLICY_CHAIN, NULL);
	nft_rule_stmt(rs, r, NFT_V_VMAP_DADDR, NFT_V6, "policy_v6");
	r = nft_add_rule(rs, NFT_POLICY_CHAIN, NULL);
	nft_rule_stmt(rs, r, NFT_V_GOTO, 0, END_CHAIN);
	used[p->n_entries] = true;

	for (uint32_t g = 0; g < c->n_groups; g++) {
		const struct policy_group *grp = &c->groups[g];
		uint32_t e;
		if (policy_group_uniform(c, grp, &e)) {
			used[e == POLICY_NO_ENTRY ? p->n_entries : e] = true;
			continue;
		}
		char gname[NFT_NAME_LEN], comment[NFT_COMMENT_LEN];
		snprintf(gname, sizeof(gname), "policy_g%u", g);
		snprintf(comment, sizeof(comment), "destinations that share one port map");
		nft_add_chain(rs, gname, comment);
		emit_ports(rs, p, c, g, 0, used);
		emit_ports(rs, p, c, g, 1, used);
		entry_chain(p, grp->icmp_entry, target, sizeof(target));
		used[grp->icmp_entry == POLICY_NO_ENTRY ? p->n_entries : grp->icmp_entry] = true;
		for (int fam = 0; fam < 2; fam++) {
			r = nft_add_rule(rs, gname, "icmp");
			nft_rule_stmt(rs, r, NFT_M_ICMP_ECHO, fam ? NFT_V6 : NFT_V4, NULL);
			nft_rule_stmt(rs, r, NFT_V_GOTO, 0, target);
		}
		entry_chain(p, grp->other_entry, target, sizeof(target));
		used[grp->other_entry == POLICY_NO_ENTRY ? p->n_entries : grp->other_entry] = true;
		r = nft_add_rule(rs, gname, "other");
		nft_rule_stmt(rs, r, NFT_V_GOTO, 0, target);
	}

	bool need_refuse = false;
	for (uint32_t e = 0; e < p->n_entries; e++)
		if (used[e])
			emit_entry(rs, p, e, &need_refuse);
	emit_entry(rs, p, POLICY_NO_ENTRY, &need_refuse);
	if (need_refuse) {
		nft_add_chain(rs, REFUSE_CHAIN, "over a rate limit: TCP reset, otherwise port unreachable");
		r = nft_add_rule(rs, REFUSE_CHAIN, NULL);
		nft_rule_stmt(rs, r, NFT_M_L4PROTO, IPPROTO_TCP, NULL);
		nft_rule_stmt(rs, r, NFT_V_REJECT_TCP, 0, NULL);
		r = nft_add_rule(rs, REFUSE_CHAIN, NULL);
		nft_rule_stmt(rs, r, NFT_V_REJECT_PORT, 0, NULL);
	}
	free(used);
	return rs->error;
}

/* ---- decoding ---- */

void nft_policy_decoded_free(struct nft_policy_decoded *d)
{
	if (!d)
		return;
	policy_compiled_free(&d->compiled);
	free(d->entries);
	memset(d, 0, sizeof(*d));
}

struct rule_facts {
	char vmap[NFT_NAME_LEN]; /* set of a verdict lookup */
	char target[NFT_NAME_LEN]; /* chain of a goto/jump */
};

static int facts_cb(struct nftnl_expr *e, void *data)
{
	struct rule_facts *f = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	if (strcmp(name, "lookup") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
		snprintf(f->vmap, sizeof(f->vmap), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	if (strcmp(name, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		snprintf(f->target, sizeof(f->target), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	return 0;
}

struct decoder {
	const struct nft_objects *o;
	struct nft_policy_decoded *d;
	size_t cap_v4, cap_v6, cap_groups, cap_ports;
	struct nft_index entries;   /* entry chain name -> entry */
	struct nft_index rules;	    /* chain name -> first of its rules in o->rules */
	uint32_t *group_of_entry;   /* the group sending everything to entry e ([n_entries]: the end) */
	uint32_t *group_of_chain;   /* the group decoded from chain policy_g<N>, by N */
	size_t n_group_chains;
};

#define NO_GROUP UINT32_MAX

static int entry_by_chain(const struct decoder *dc, const char *chain, uint32_t *e)
{
	if (strcmp(chain, END_CHAIN) == 0) {
		*e = POLICY_NO_ENTRY;
		return 0;
	}
	return nft_index_find(&dc->entries, chain, e) ? 0 : -EBADMSG;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Ranges of an interval set: each start element runs to the key before the next element
 * (start or end), or to the end of the space. verdicts: an interval map whose elements must
 * each goto / jump to a chain. */
static int set_ranges(const struct nft_objects *o, const char *set, uint32_t klen, bool verdicts,
		      int (*each)(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain), void *ctx)
{
	struct nft_dump_elem *el = NULL;
	size_t n = 0;
	int rc = nft_dump_set_elems(o, set, &el, &n);
	if (rc)
		return rc == -ENOENT ? -EBADMSG : rc;
	for (size_t i = 0; i < n && !rc; i++) {
		if (el[i].interval_end)
			continue;
		if (el[i].key_len != klen || (verdicts && el[i].verdict != NFT_GOTO && el[i].verdict != NFT_JUMP)) {
			rc = -EBADMSG;
			break;
		}
		uint8_t hi[16];
		if (i + 1 < n) {
			memcpy(hi, el[i + 1].key, klen);
			for (size_t b = klen; b-- > 0;)
				if (hi[b]-- != 0)
					break;
		} else {
			memset(hi, 0xff, klen);
		}
		rc = each(ctx, el[i].key, hi, el[i].chain);
	}
	free(el);
	return rc;
}

struct port_ctx {
	struct decoder *dc;
};

static int add_port(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain)
{
	struct decoder *dc = ctx;
	struct policy_compiled *c = &dc->d->compiled;
	uint32_t e;
	int rc = entry_by_chain(dc, chain, &e);
	if (rc || (rc = grow((void **)&c->ports, &dc->cap_ports, c->n_ports + 1, sizeof(*c->ports))))
		return rc;
	c->ports[c->n_ports++] = (struct policy_port_range){ (uint16_t)(lo[0] << 8 | lo[1]),
							      (uint16_t)(hi[0] << 8 | hi[1]), e };
	return 0;
}

static int add_uniform_ports(struct decoder *dc, uint32_t e)
{
	struct policy_compiled *c = &dc->d->compiled;
	int rc = grow((void **)&c->ports, &dc->cap_ports, c->n_ports + 1, sizeof(*c->ports));
	if (rc)
		return rc;
	c->ports[c->n_ports++] = (struct policy_port_range){ 0, 65535, e };
	return 0;
}

/* Finds or decodes the group a map element sends its range to. */
static int group_for(struct decoder *dc, const char *chain, uint32_t *out)
{
	struct policy_compiled *c = &dc->d->compiled;
	uint32_t e, n = 0, *cache;
	int off = 0;
	bool uniform = entry_by_chain(dc, chain, &e) == 0;
	if (uniform)
		cache = &dc->group_of_entry[e == POLICY_NO_ENTRY ? dc->d->n_entries : e];
	else if (sscanf(chain, "policy_g%u%n", &n, &off) == 1 && chain[off] == '\0' && n < dc->n_group_chains)
		cache = &dc->group_of_chain[n];
	else
		return -EBADMSG;
	if (*cache != NO_GROUP) {
		*out = *cache;
		return 0;
	}
	int rc = grow((void **)&c->groups, &dc->cap_groups, c->n_groups + 1, sizeof(*c->groups));
	if (rc)
		return rc;
	struct policy_group g;
	memset(&g, 0, sizeof(g));
	if (uniform) {
		/* Straight to an entry: every class and port goes there. */
		for (int slot = 0; slot < 2; slot++) {
			g.ports_off[slot] = (uint32_t)c->n_ports;
			g.ports_len[slot] = 1;
			if ((rc = add_uniform_ports(dc, e)))
				return rc;
		}
		g.icmp_entry = g.other_entry = e;
	} else {
		bool have[4] = { false };
		uint32_t first;
		if (!nft_index_find(&dc->rules, chain, &first))
			return -EBADMSG;
		for (size_t i = first; i < dc->o->n_rules; i++) {
			struct nftnl_rule *r = dc->o->rules[i];
			if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain) != 0)
				break;
			char what[NFT_COMMENT_LEN];
			nft_rule_comment(r, what, sizeof(what));
			struct rule_facts f = { { 0 }, { 0 } };
			nftnl_expr_foreach(r, facts_cb, &f);
			int slot = strcmp(what, "tcp") == 0 ? 0 : strcmp(what, "udp") == 0 ? 1 : -1;
			if (slot >= 0) {
				if (have[slot])
					return -EBADMSG;
				have[slot] = true;
				g.ports_off[slot] = (uint32_t)c->n_ports;
				if (f.vmap[0])
					rc = set_ranges(dc->o, f.vmap, 2, true, add_port, dc);
				else if (f.target[0] && (rc = entry_by_chain(dc, f.target, &e)) == 0)
					rc = add_uniform_ports(dc, e);
				else
					rc = rc ? rc : -EBADMSG;
				if (rc)
					return rc;
				g.ports_len[slot] = (uint32_t)(c->n_ports - g.ports_off[slot]);
			} else if (strcmp(what, "icmp") == 0 || strcmp(what, "other") == 0) {
				bool icmp = what[0] == 'i';
				if ((rc = entry_by_chain(dc, f.target, &e)))
					return rc;
				*(icmp ? &g.icmp_entry : &g.other_entry) = e;
				have[icmp ? 2 : 3] = true;
			}
		}
		if (!have[0] || !have[1] || !have[2] || !have[3])
			return -EBADMSG;
	}
	c->groups[c->n_groups] = g;
	*cache = (uint32_t)c->n_groups;
	*out = (uint32_t)c->n_groups++;
	return 0;
}

static int add_v4(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain)
{
	struct decoder *dc = ctx;
	struct policy_compiled *c = &dc->d->compiled;
	uint32_t g;
	int rc = group_for(dc, chain, &g);
	if (rc || (rc = grow((void **)&c->v4, &dc->cap_v4, c->n_v4 + 1, sizeof(*c->v4))))
		return rc;
	uint32_t a, b;
	memcpy(&a, lo, 4);
	memcpy(&b, hi, 4);
	c->v4[c->n_v4++] = (struct policy_v4_range){ ntohl(a), ntohl(b), g };
	return 0;
}

static int add_v6(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain)
{
	struct decoder *dc = ctx;
	struct policy_compiled *c = &dc->d->compiled;
	uint32_t g;
	int rc = group_for(dc, chain, &g);
	if (rc || (rc = grow((void **)&c->v6, &dc->cap_v6, c->n_v6 + 1, sizeof(*c->v6))))
		return rc;
	struct policy_v6_range *r = &c->v6[c->n_v6++];
	memcpy(r->lo, lo, 16);
	memcpy(r->hi, hi, 16);
	r->group = g;
	return 0;
}

struct open_ctx {
	struct policy_compiled *c;
	size_t cap;
};

static int add_open_v4(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain)
{
	(void)chain;
	struct open_ctx *oc = ctx;
	struct policy_compiled *c = oc->c;
	int rc = grow((void **)&c->open_v4, &oc->cap, c->n_open_v4 + 1, sizeof(*c->open_v4));
	if (rc)
		return rc;
	uint32_t a, b;
	memcpy(&a, lo, 4);
	memcpy(&b, hi, 4);
	c->open_v4[c->n_open_v4++] = (struct policy_v4_span){ ntohl(a), ntohl(b) };
	return 0;
}

static int add_open_v6(void *ctx, const uint8_t *lo, const uint8_t *hi, const char *chain)
{
	(void)chain;
	struct open_ctx *oc = ctx;
	struct policy_compiled *c = oc->c;
	int rc = grow((void **)&c->open_v6, &oc->cap, c->n_open_v6 + 1, sizeof(*c->open_v6));
	if (rc)
		return rc;
	memcpy(c->open_v6[c->n_open_v6].lo, lo, 16);
	memcpy(c->open_v6[c->n_open_v6++].hi, hi, 16);
	return 0;
}

/* The open ranges (plain interval set; nft_policy_emit merges neighbours). */
static int decode_open(const struct nft_objects *o, struct policy_compiled *c, bool v6)
{
	struct open_ctx oc = { .c = c };
	if (v6)
		return set_ranges(o, OPEN_V6, 16, false, add_open_v6, &oc);
	return set_ranges(o, OPEN_V4, 4, false, add_open_v4, &oc);
}

static const char *entry_chain_at(const void *ctx, size_t i)
{
	return ((const struct nft_policy_decoded *)ctx)->entries[i].chain;
}

/* Dumps list a chain's rules together, in order; the index finds where they begin (the
 * first of equal names, once the later ones are pointed at their first). */
static const char *rule_chain_at(const void *ctx, size_t i)
{
	return nftnl_rule_get_str(((const struct nft_objects *)ctx)->rules[i], NFTNL_RULE_CHAIN);
}

int nft_policy_decode(const struct nft_objects *o, struct nft_policy_decoded *out)
{
	struct nft_policy_decoded d;
	memset(&d, 0, sizeof(d));
	struct decoder dc = { .o = o, .d = &d };
	int rc = -ENOENT;
	bool have_policy = false;
	size_t cap_entries = 0;
	for (size_t i = 0; i < o->n_chains; i++) {
		const char *name = nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME);
		if (strcmp(name, NFT_POLICY_CHAIN) == 0)
			have_policy = true;
		char comment[NFT_COMMENT_LEN];
		nft_chain_comment(o->chains[i], comment, sizeof(comment));
		unsigned line;
		int off = 0;
		if (strncmp(name, "policy_l", 8) != 0 || sscanf(comment, "line %u: %n", &line, &off) != 1 || off == 0)
			continue;
		if ((rc = grow((void **)&d.entries, &cap_entries, d.n_entries + 1, sizeof(*d.entries))))
			goto out;
		struct nft_policy_entry *e = &d.entries[d.n_entries++];
		memset(e, 0, sizeof(*e));
		e->line = line;
		snprintf(e->text, sizeof(e->text), "%s", comment + off);
		snprintf(e->chain, sizeof(e->chain), "%s", name);
		e->action = strncmp(e->text, "accept", 6) == 0 ? POLICY_ACCEPT : POLICY_REJECT;
	}
	if (!have_policy) {
		rc = -ENOENT;
		goto out;
	}
	d.compiled.n_entries = d.n_entries;
	d.compiled.entry_action = malloc(d.n_entries + 1);
	dc.n_group_chains = o->n_chains;
	dc.group_of_entry = malloc((d.n_entries + 1) * sizeof(*dc.group_of_entry));
	dc.group_of_chain = malloc((o->n_chains + 1) * sizeof(*dc.group_of_chain));
	if (!d.compiled.entry_action || !dc.group_of_entry || !dc.group_of_chain ||
	    nft_index_build(&dc.entries, d.n_entries, entry_chain_at, &d) ||
	    nft_index_build(&dc.rules, o->n_rules, rule_chain_at, o)) {
		rc = -ENOMEM;
		goto out;
	}
	memset(dc.group_of_entry, 0xff, (d.n_entries + 1) * sizeof(*dc.group_of_entry));
	memset(dc.group_of_chain, 0xff, (o->n_chains + 1) * sizeof(*dc.group_of_chain));
	/* Several rules share a chain: make every one of them point at the chain's first rule. */
	for (size_t i = 0; i < dc.rules.n; i++) {
		size_t j = i;
		uint32_t lo = dc.rules.v[i].value;
		while (j + 1 < dc.rules.n && strcmp(dc.rules.v[j + 1].name, dc.rules.v[i].name) == 0) {
			j++;
			if (dc.rules.v[j].value < lo)
				lo = dc.rules.v[j].value;
		}
		for (size_t k = i; k <= j; k++)
			dc.rules.v[k].value = lo;
		i = j;
	}
	for (size_t i = 0; i < d.n_entries; i++)
		d.compiled.entry_action[i] = (uint8_t)d.entries[i].action;
	if ((rc = set_ranges(o, "policy_v4", 4, true, add_v4, &dc)) ||
	    (rc = set_ranges(o, "policy_v6", 16, true, add_v6, &dc)) ||
	    (rc = decode_open(o, &d.compiled, false)) || (rc = decode_open(o, &d.compiled, true)))
		goto out;
out:
	nft_index_free(&dc.entries);
	nft_index_free(&dc.rules);
	free(dc.group_of_entry);
	free(dc.group_of_chain);
	if (rc) {
		nft_policy_decoded_free(&d);
		return rc;
	}
	*out = d;
	return 0;
}
