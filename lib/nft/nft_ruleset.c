#include "nft/nft_ruleset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft_index.h"

void nft_ruleset_init(struct nft_ruleset *rs, const char *table)
{
	memset(rs, 0, sizeof(*rs));
	if (strlen(table) >= sizeof(rs->table))
		rs->error = -EINVAL;
	snprintf(rs->table, sizeof(rs->table), "%s", table);
}

void nft_ruleset_free(struct nft_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_sets; i++) {
		free(rs->sets[i]->elems);
		free(rs->sets[i]);
	}
	free(rs->sets);
	free(rs->chains);
	free(rs->rules);
	free(rs->flowtable);
	memset(rs, 0, sizeof(*rs));
}

static void *grow(struct nft_ruleset *rs, void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = realloc(*arr, ncap * elem);
		if (!p) {
			if (!rs->error)
				rs->error = -ENOMEM;
			return NULL;
		}
		*arr = p;
		*cap = ncap;
	}
	void *slot = (char *)*arr + (*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

static void copy_name(struct nft_ruleset *rs, char *dst, size_t cap, const char *src)
{
	if (!src)
		src = "";
	if (strlen(src) >= cap && !rs->error)
		rs->error = -EINVAL;
	snprintf(dst, cap, "%s", src);
}

/* Where failed builders write, so callers never see NULL (per thread: a node may build
 * rulesets on several). */
static _Thread_local struct nft_chain scratch_chain;
static _Thread_local struct nft_set scratch_set;
static _Thread_local struct nft_rule scratch_rule;
static _Thread_local struct nft_flowtable scratch_flowtable;

struct nft_chain *nft_add_chain(struct nft_ruleset *rs, const char *name, const char *comment)
{
	return nft_add_base_chain(rs, name, NFT_HOOK_NONE, false, 0, false, comment);
}

struct nft_chain *nft_add_base_chain(struct nft_ruleset *rs, const char *name, enum nft_hook hook,
				     bool nat, int32_t priority, bool policy_drop,
				     const char *comment)
{
	struct nft_chain *c = grow(rs, (void **)&rs->chains, &rs->n_chains, &rs->cap_chains, sizeof(*c));
	if (!c)
		return memset(&scratch_chain, 0, sizeof(scratch_chain));
	copy_name(rs, c->name, sizeof(c->name), name);
	copy_name(rs, c->comment, sizeof(c->comment), comment);
	c->hook = hook;
	c->nat = nat;
	c->priority = priority;
	c->policy_drop = policy_drop;
	return c;
}

struct nft_set *nft_add_set(struct nft_ruleset *rs, const char *name, enum nft_key key, bool interval,
			    bool vmap)
{
	struct nft_set *s = calloc(1, sizeof(*s));
	struct nft_set **slot = s ? grow(rs, (void **)&rs->sets, &rs->n_sets, &rs->cap_sets, sizeof(*slot)) : NULL;
	if (!slot) {
		free(s);
		if (!rs->error)
			rs->error = -ENOMEM;
		return memset(&scratch_set, 0, sizeof(scratch_set));
	}
	*slot = s;
	copy_name(rs, s->name, sizeof(s->name), name);
	s->key = key;
	s->interval = interval;
	s->vmap = vmap;
	return s;
}

struct nft_flowtable *nft_add_flowtable(struct nft_ruleset *rs, const char *name, int32_t priority)
{
	if (!rs->flowtable && !(rs->flowtable = calloc(1, sizeof(*rs->flowtable)))) {
		if (!rs->error)
			rs->error = -ENOMEM;
		return memset(&scratch_flowtable, 0, sizeof(scratch_flowtable));
	}
	copy_name(rs, rs->flowtable->name, sizeof(rs->flowtable->name), name);
	rs->flowtable->priority = priority;
	return rs->flowtable;
}

void nft_flowtable_add_device(struct nft_ruleset *rs, struct nft_flowtable *ft, const char *ifname)
{
	for (size_t i = 0; i < ft->n_devices; i++)
		if (strcmp(ft->devices[i], ifname) == 0)
			return;
	if (ft->n_devices == NFT_FLOWTABLE_MAX_DEVICES) {
		if (!rs->error)
			rs->error = -EINVAL;
		return;
	}
	copy_name(rs, ft->devices[ft->n_devices++], NFT_IFNAME_LEN, ifname);
}

size_t nft_key_len(enum nft_key key)
{
	switch (key) {
	case NFT_KEY_IPV4:
		return 4;
	case NFT_KEY_IPV6:
		return 16;
	case NFT_KEY_PORT:
		return 2;
	case NFT_KEY_IFNAME:
		return NFT_IFNAME_LEN;
	case NFT_KEY_ICMPV6_TYPE:
		return 1;
	}
	return 0;
}

void nft_set_add(struct nft_ruleset *rs, struct nft_set *set, const void *lo, const void *hi,
		 enum nft_verdict verdict, const char *chain)
{
	if (set == &scratch_set)
		return;
	struct nft_elem *e = grow(rs, (void **)&set->elems, &set->n_elems, &set->cap_elems, sizeof(*e));
	if (!e)
		return;
	size_t kl = nft_key_len(set->key);
	memcpy(e->lo, lo, kl);
	memcpy(e->hi, hi ? hi : lo, kl);
	if (memcmp(e->lo, e->hi, kl) > 0 && !rs->error)
		rs->error = -EINVAL;
	if (!set->interval && memcmp(e->lo, e->hi, kl) != 0 && !rs->error)
		rs->error = -EINVAL;
	e->verdict = verdict;
	if ((verdict == NFT_VERDICT_NONE) == set->vmap && !rs->error)
		rs->error = -EINVAL;
	copy_name(rs, e->chain, sizeof(e->chain), chain);
}

void nft_set_add_port(struct nft_ruleset *rs, struct nft_set *set, uint16_t lo, uint16_t hi)
{
	uint16_t a = htons(lo), b = htons(hi);
	nft_set_add(rs, set, &a, &b, NFT_VERDICT_NONE, NULL);
}

void nft_set_add_ifname(struct nft_ruleset *rs, struct nft_set *set, const char *ifname)
{
	char key[NFT_IFNAME_LEN] = { 0 };
	if (strlen(ifname) >= sizeof(key) && !rs->error)
		rs->error = -EINVAL;
	strncpy(key, ifname, sizeof(key) - 1);
	nft_set_add(rs, set, key, key, NFT_VERDICT_NONE, NULL);
}

struct nft_rule *nft_add_rule(struct nft_ruleset *rs, const char *chain, const char *comment)
{
	struct nft_rule *r = grow(rs, (void **)&rs->rules, &rs->n_rules, &rs->cap_rules, sizeof(*r));
	if (!r)
		return memset(&scratch_rule, 0, sizeof(scratch_rule));
	copy_name(rs, r->chain, sizeof(r->chain), chain);
	copy_name(rs, r->comment, sizeof(r->comment), comment);
	return r;
}

static struct nft_stmt *next_stmt(struct nft_ruleset *rs, struct nft_rule *r)
{
	if (r->n_stmts == NFT_RULE_MAX_STMTS) {
		if (!rs->error)
			rs->error = -EINVAL;
		return NULL;
	}
	struct nft_stmt *s = &r->stmts[r->n_stmts++];
	memset(s, 0, sizeof(*s));
	return s;
}

void nft_rule_stmt(struct nft_ruleset *rs, struct nft_rule *r, enum nft_stmt_kind kind, uint32_t arg,
		   const char *name)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	s->kind = kind;
	s->arg = arg;
	copy_name(rs, s->name, sizeof(s->name), name);
}

void nft_rule_dport(struct nft_ruleset *rs, struct nft_rule *r, uint8_t l4proto, uint16_t port)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	s->kind = NFT_M_DPORT;
	s->arg = l4proto;
	s->port = port;
}

void nft_rule_mark(struct nft_ruleset *rs, struct nft_rule *r, uint32_t mark)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	s->kind = NFT_M_MARK;
	s->arg = mark;
}

void nft_rule_daddr(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family, const void *addr)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	if (family != NFT_V4 && family != NFT_V6 && !rs->error)
		rs->error = -EINVAL;
	s->kind = NFT_M_DADDR;
	s->arg = family;
	memcpy(s->addr, addr, family == NFT_V6 ? 16 : 4);
}

void nft_rule_dnat(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family, const void *addr)
{
	nft_rule_daddr(rs, r, family, addr);
	if (r->n_stmts)
		r->stmts[r->n_stmts - 1].kind = NFT_S_DNAT;
}

void nft_rule_ports(struct nft_ruleset *rs, struct nft_rule *r, uint8_t l4proto, uint16_t sport, uint16_t dport)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	s->kind = NFT_M_SPORT_DPORT;
	s->arg = l4proto;
	s->sport = sport;
	s->port = dport;
}

void nft_rule_limit(struct nft_ruleset *rs, struct nft_rule *r, enum nft_family family,
		    const char *set, uint32_t rate, uint32_t unit_s, uint32_t burst)
{
	struct nft_stmt *s = next_stmt(rs, r);
	if (!s)
		return;
	s->kind = NFT_S_LIMIT_OVER;
	s->arg = family;
	copy_name(rs, s->name, sizeof(s->name), set);
	s->rate = rate;
	s->unit_s = unit_s;
	s->burst = burst;
}

const struct nft_chain *nft_find_chain(const struct nft_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		if (strcmp(rs->chains[i].name, name) == 0)
			return &rs->chains[i];
	return NULL;
}

const struct nft_set *nft_find_set(const struct nft_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (strcmp(rs->sets[i]->name, name) == 0)
			return rs->sets[i];
	return NULL;
}

/* ---- printing ---- */

struct sbuf {
	char *p;
	size_t cap, len;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->len >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap;
}

static const char *l4_name(uint32_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	}
	return "?";
}

static const char *unit_name(uint32_t unit_s)
{
	switch (unit_s) {
	case 1:
		return "second";
	case 60:
		return "minute";
	case 3600:
		return "hour";
	case 86400:
		return "day";
	}
	return "week";
}

static void format_stmt(const struct nft_stmt *s, struct sbuf *b)
{
	const char *ip = s->arg == NFT_V6 ? "ip6" : "ip";
	switch (s->kind) {
	case NFT_M_IIFNAME:
		sb_printf(b, "iifname \"%s\"", s->name);
		break;
	case NFT_M_OIFNAME:
		sb_printf(b, "oifname \"%s\"", s->name);
		break;
	case NFT_M_IIFNAME_SET:
		sb_printf(b, "iifname @%s", s->name);
		break;
	case NFT_M_OIFNAME_SET:
		sb_printf(b, "oifname @%s", s->name);
		break;
	case NFT_M_NFPROTO:
		sb_printf(b, "meta nfproto %s", s->arg == NFT_V6 ? "ipv6" : "ipv4");
		break;
	case NFT_M_L4PROTO:
		sb_printf(b, "meta l4proto %s", l4_name(s->arg));
		break;
	case NFT_M_CT_STATE: {
		static const struct {
			uint32_t bit;
			const char *name;
		} st[] = { { NFT_CT_INVALID, "invalid" },
			   { NFT_CT_ESTABLISHED, "established" },
			   { NFT_CT_RELATED, "related" },
			   { NFT_CT_NEW, "new" } };
		sb_printf(b, "ct state ");
		bool first = true;
		for (size_t i = 0; i < 4; i++)
			if (s->arg & st[i].bit) {
				sb_printf(b, "%s%s", first ? "" : ",", st[i].name);
				first = false;
			}
		break;
	}
	case NFT_M_SADDR_SET:
		sb_printf(b, "%s saddr @%s", ip, s->name);
		break;
	case NFT_M_DADDR_SET:
		sb_printf(b, "%s daddr @%s", ip, s->name);
		break;
	case NFT_M_DPORT:
		sb_printf(b, "%s dport %u", l4_name(s->arg), s->port);
		break;
	case NFT_M_DPORT_SET:
		sb_printf(b, "%s dport @%s", l4_name(s->arg), s->name);
		break;
	case NFT_M_ICMP_ECHO:
		sb_printf(b, "%s type echo-request", s->arg == NFT_V6 ? "icmpv6" : "icmp");
		break;
	case NFT_M_ICMPV6_TYPE_SET:
		sb_printf(b, "icmpv6 type @%s", s->name);
		break;
	case NFT_M_OIFNAME_NOT:
		sb_printf(b, "oifname != \"%s\"", s->name);
		break;
	case NFT_M_MARK:
		sb_printf(b, "meta mark 0x%08x", s->arg);
		break;
	case NFT_M_DADDR: {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(s->arg == NFT_V6 ? AF_INET6 : AF_INET, s->addr, a, sizeof(a));
		sb_printf(b, "%s daddr %s", ip, a);
		break;
	}
	case NFT_M_SPORT_DPORT:
		sb_printf(b, "%s sport %u %s dport %u", l4_name(s->arg), s->sport, l4_name(s->arg), s->port);
		break;
	case NFT_S_COUNTER:
		sb_printf(b, "counter");
		break;
	case NFT_S_LIMIT_OVER:
		sb_printf(b, "update @%s { %s saddr limit rate over %u/%s burst %u packets }", s->name, ip,
			  s->rate, unit_name(s->unit_s), s->burst);
		break;
	case NFT_S_MASQUERADE:
		sb_printf(b, "masquerade");
		break;
	case NFT_S_DNAT: {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(s->arg == NFT_V6 ? AF_INET6 : AF_INET, s->addr, a, sizeof(a));
		sb_printf(b, "dnat %s to %s", ip, a);
		break;
	}
	case NFT_S_FLOW_ADD:
		sb_printf(b, "flow add @%s", s->name);
		break;
	case NFT_V_ACCEPT:
		sb_printf(b, "accept");
		break;
	case NFT_V_DROP:
		sb_printf(b, "drop");
		break;
	case NFT_V_JUMP:
		sb_printf(b, "jump %s", s->name);
		break;
	case NFT_V_GOTO:
		sb_printf(b, "goto %s", s->name);
		break;
	case NFT_V_REJECT_TCP:
		sb_printf(b, "reject with tcp reset");
		break;
	case NFT_V_REJECT_PORT:
		sb_printf(b, "reject with icmpx port-unreachable");
		break;
	case NFT_V_VMAP_DADDR:
		sb_printf(b, "%s daddr vmap @%s", ip, s->name);
		break;
	case NFT_V_VMAP_DPORT:
		sb_printf(b, "%s dport vmap @%s", l4_name(s->arg), s->name);
		break;
	}
}

void nft_rule_format(const struct nft_rule *r, char *out, size_t cap)
{
	struct sbuf b = { out, cap, 0 };
	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < r->n_stmts; i++) {
		if (i)
			sb_printf(&b, " ");
		format_stmt(&r->stmts[i], &b);
	}
	if (r->comment[0])
		sb_printf(&b, " comment \"%s\"", r->comment);
}

static const char *key_type_name(enum nft_key key)
{
	switch (key) {
	case NFT_KEY_IPV4:
		return "ipv4_addr";
	case NFT_KEY_IPV6:
		return "ipv6_addr";
	case NFT_KEY_PORT:
		return "inet_service";
	case NFT_KEY_IFNAME:
		return "ifname";
	case NFT_KEY_ICMPV6_TYPE:
		return "icmpv6_type";
	}
	return "?";
}

/* Prefix length when [lo, hi] is exactly one CIDR block, else -1. */
static int block_prefix(const uint8_t *lo, const uint8_t *hi, size_t n)
{
	size_t bits = n * 8;
	size_t p = 0;
	while (p < bits) {
		uint8_t m = (uint8_t)(0x80 >> (p % 8));
		if ((lo[p / 8] & m) != (hi[p / 8] & m))
			break;
		p++;
	}
	for (size_t q = p; q < bits; q++) {
		uint8_t m = (uint8_t)(0x80 >> (q % 8));
		if ((lo[q / 8] & m) || !(hi[q / 8] & m))
			return -1;
	}
	return (int)p;
}

static const char *icmpv6_type_name(uint8_t t)
{
	switch (t) {
	case 1:
		return "destination-unreachable";
	case 2:
		return "packet-too-big";
	case 3:
		return "time-exceeded";
	case 4:
		return "parameter-problem";
	case 128:
		return "echo-request";
	case 129:
		return "echo-reply";
	case 133:
		return "nd-router-solicit";
	case 134:
		return "nd-router-advert";
	case 135:
		return "nd-neighbor-solicit";
	case 136:
		return "nd-neighbor-advert";
	case 137:
		return "nd-redirect";
	}
	return NULL;
}

static void format_key(const struct nft_set *s, const struct nft_elem *e, struct sbuf *b)
{
	size_t kl = nft_key_len(s->key);
	bool single = memcmp(e->lo, e->hi, kl) == 0;
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	switch (s->key) {
	case NFT_KEY_IPV4:
	case NFT_KEY_IPV6: {
		int af = s->key == NFT_KEY_IPV4 ? AF_INET : AF_INET6;
		inet_ntop(af, e->lo, x, sizeof(x));
		inet_ntop(af, e->hi, y, sizeof(y));
		int pfx = block_prefix(e->lo, e->hi, kl);
		if (single)
			sb_printf(b, "%s", x);
		else if (pfx >= 0)
			sb_printf(b, "%s/%d", x, pfx);
		else
			sb_printf(b, "%s-%s", x, y);
		break;
	}
	case NFT_KEY_PORT: {
		unsigned lo = (unsigned)e->lo[0] << 8 | e->lo[1], hi = (unsigned)e->hi[0] << 8 | e->hi[1];
		if (single)
			sb_printf(b, "%u", lo);
		else
			sb_printf(b, "%u-%u", lo, hi);
		break;
	}
	case NFT_KEY_IFNAME:
		sb_printf(b, "\"%.*s\"", NFT_IFNAME_LEN, (const char *)e->lo);
		break;
	case NFT_KEY_ICMPV6_TYPE: {
		const char *n = icmpv6_type_name(e->lo[0]);
		if (n)
			sb_printf(b, "%s", n);
		else
			sb_printf(b, "%u", e->lo[0]);
		break;
	}
	}
	if (!s->vmap)
		return;
	switch (e->verdict) {
	case NFT_VERDICT_ACCEPT:
		sb_printf(b, " : accept");
		break;
	case NFT_VERDICT_DROP:
		sb_printf(b, " : drop");
		break;
	case NFT_VERDICT_JUMP:
		sb_printf(b, " : jump %s", e->chain);
		break;
	case NFT_VERDICT_GOTO:
		sb_printf(b, " : goto %s", e->chain);
		break;
	case NFT_VERDICT_NONE:
		break;
	}
}

static const char *hook_name(enum nft_hook h)
{
	switch (h) {
	case NFT_HOOK_INPUT:
		return "input";
	case NFT_HOOK_FORWARD:
		return "forward";
	case NFT_HOOK_POSTROUTING:
		return "postrouting";
	case NFT_HOOK_OUTPUT:
		return "output";
	case NFT_HOOK_PREROUTING:
		return "prerouting";
	case NFT_HOOK_NONE:
		break;
	}
	return "?";
}

static void print_set(const struct nft_set *s, FILE *out)
{
	fprintf(out, "\t%s %s {\n", s->vmap ? "map" : "set", s->name);
	fprintf(out, "\t\ttype %s%s\n", key_type_name(s->key), s->vmap ? " : verdict" : "");
	if (s->size)
		fprintf(out, "\t\tsize %u\n", s->size);
	if (s->interval || s->dynamic || s->timeout_ms) {
		fprintf(out, "\t\tflags ");
		const char *sep = "";
		if (s->dynamic) {
			fprintf(out, "dynamic");
			sep = ",";
		}
		if (s->interval) {
			fprintf(out, "%sinterval", sep);
			sep = ",";
		}
		if (s->timeout_ms)
			fprintf(out, "%stimeout", sep);
		fputc('\n', out);
	}
	if (s->timeout_ms)
		fprintf(out, "\t\ttimeout %ums\n", s->timeout_ms);
	if (s->n_elems) {
		fprintf(out, "\t\telements = { ");
		for (size_t i = 0; i < s->n_elems; i++) {
			char buf[200];
			struct sbuf b = { buf, sizeof(buf), 0 };
			format_key(s, &s->elems[i], &b);
			const char *sep = i + 1 == s->n_elems ? " }\n" : s->vmap || i % 8 == 7 ? ",\n\t\t\t     " : ", ";
			fprintf(out, "%s%s", buf, sep);
		}
	}
	fprintf(out, "\t}\n");
}

static const char *print_chain_name(const void *ctx, size_t i)
{
	return ((const struct nft_ruleset *)ctx)->chains[i].name;
}

int nft_ruleset_print(const struct nft_ruleset *rs, FILE *out)
{
	/* Rules listed chain by chain, in order: a counting sort over chain positions. */
	struct nft_index ix;
	size_t *start = calloc(rs->n_chains + 1, sizeof(*start));
	size_t *order = malloc((rs->n_rules ? rs->n_rules : 1) * sizeof(*order));
	uint32_t *chain_of = malloc((rs->n_rules ? rs->n_rules : 1) * sizeof(*chain_of));
	if (!start || !order || !chain_of || nft_index_build(&ix, rs->n_chains, print_chain_name, rs)) {
		free(start);
		free(order);
		free(chain_of);
		return -ENOMEM;
	}
	for (size_t j = 0; j < rs->n_rules; j++) {
		if (!nft_index_find(&ix, rs->rules[j].chain, &chain_of[j]))
			chain_of[j] = (uint32_t)rs->n_chains; /* no such chain: not printed */
		start[chain_of[j]]++;
	}
	for (size_t c = 0, sum = 0; c <= rs->n_chains; c++) {
		size_t k = start[c];
		start[c] = sum;
		sum += k;
	}
	for (size_t j = 0; j < rs->n_rules; j++)
		order[start[chain_of[j]]++] = j;
	nft_index_free(&ix);
	free(chain_of);
	size_t next = 0;
	fprintf(out, "table inet %s {\n", rs->table);
	if (rs->comment[0])
		fprintf(out, "\tcomment \"%s\"\n", rs->comment);
	if (rs->flowtable) {
		const struct nft_flowtable *ft = rs->flowtable;
		fprintf(out, "\n\tflowtable %s {\n", ft->name);
		if (ft->priority == 0)
			fprintf(out, "\t\thook ingress priority filter\n");
		else
			fprintf(out, "\t\thook ingress priority %d\n", ft->priority);
		fprintf(out, "\t\tdevices = { ");
		for (size_t i = 0; i < ft->n_devices; i++)
			fprintf(out, "%s%s", i ? ", " : "", ft->devices[i]);
		fprintf(out, " }\n\t}\n");
	}
	for (size_t i = 0; i < rs->n_sets; i++) {
		fputc('\n', out);
		print_set(rs->sets[i], out);
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct nft_chain *c = &rs->chains[i];
		fprintf(out, "\n\tchain %s {\n", c->name);
		if (c->hook != NFT_HOOK_NONE) {
			char prio[16];
			if (!c->nat && c->priority == 0)
				snprintf(prio, sizeof(prio), "filter");
			else if (c->nat && c->priority == 100)
				snprintf(prio, sizeof(prio), "srcnat");
			else if (c->nat && c->priority == -100)
				snprintf(prio, sizeof(prio), "dstnat");
			else
				snprintf(prio, sizeof(prio), "%d", c->priority);
			fprintf(out, "\t\ttype %s hook %s priority %s; policy %s;\n", c->nat ? "nat" : "filter",
				hook_name(c->hook), prio, c->policy_drop ? "drop" : "accept");
		}
		if (c->comment[0])
			fprintf(out, "\t\tcomment \"%s\"\n", c->comment);
		/* After the counting sort start[i] is the end of chain i's rules. */
		for (; next < start[i]; next++) {
			char buf[512];
			nft_rule_format(&rs->rules[order[next]], buf, sizeof(buf));
			fprintf(out, "\t\t%s\n", buf);
		}
		fprintf(out, "\t}\n");
	}
	fprintf(out, "}\n");
	free(start);
	free(order);
	return ferror(out) ? -EIO : 0;
}
