#include "nft/nft_killswitch.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nft/nft_dump.h"
#include "nft/nft_encode.h"

/* Networks that are local by definition: RFC 1918, link-local, multicast; ULA, IPv6
 * link-local and multicast. */
static const struct nft_killswitch_net builtin_lan[] = {
	{ AF_INET, { 10 }, 8 },
	{ AF_INET, { 172, 16 }, 12 },
	{ AF_INET, { 192, 168 }, 16 },
	{ AF_INET, { 169, 254 }, 16 },
	{ AF_INET, { 224 }, 4 },
	{ AF_INET6, { 0xfe, 0x80 }, 10 },
	{ AF_INET6, { 0xfc }, 7 },
	{ AF_INET6, { 0xff }, 8 },
};

/* NDP: router solicitation / advertisement, neighbour solicitation / advertisement, redirect. */
static const uint8_t ndp_types[] = { 133, 134, 135, 136, 137 };

static void net_range(const struct nft_killswitch_net *n, size_t len, uint8_t *lo, uint8_t *hi)
{
	memcpy(lo, n->addr, len);
	memcpy(hi, n->addr, len);
	for (size_t i = 0; i < len; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t host = n->prefix >= bit0 + 8 ? 0 : n->prefix <= bit0 ? 0xff : (uint8_t)(0xff >> (n->prefix - bit0));
		lo[i] &= (uint8_t)~host;
		hi[i] |= host;
	}
}

/* CIDR blocks either nest or are disjoint: a block inside one already in the set is
 * skipped, and one that contains blocks already there replaces them (interval sets refuse
 * overlaps). */
static void lan_add(struct nft_ruleset *rs, struct nft_set *s, const struct nft_killswitch_net *n)
{
	size_t len = n->family == AF_INET6 ? 16 : 4;
	uint8_t lo[16], hi[16];
	net_range(n, len, lo, hi);
	for (size_t i = 0; i < s->n_elems;) {
		struct nft_elem *e = &s->elems[i];
		if (memcmp(e->lo, lo, len) <= 0 && memcmp(e->hi, hi, len) >= 0)
			return; /* already covered */
		if (memcmp(lo, e->lo, len) <= 0 && memcmp(hi, e->hi, len) >= 0) {
			s->elems[i] = s->elems[--s->n_elems]; /* covered by the new one */
			continue;
		}
		i++;
	}
	nft_set_add(rs, s, lo, hi, NFT_VERDICT_NONE, NULL);
}

static int check_net(const struct nft_killswitch_net *n)
{
	if (n->family == AF_INET)
		return n->prefix <= 32 ? 0 : -EINVAL;
	if (n->family == AF_INET6)
		return n->prefix <= 128 ? 0 : -EINVAL;
	return -EINVAL;
}

static void rule_accept(struct nft_ruleset *rs, struct nft_rule *r)
{
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
}

/* DHCPv4 and DHCPv6 in one direction: out = client to server ports. */
static void dhcp_rules(struct nft_ruleset *rs, const char *chain, bool out)
{
	struct nft_rule *r = nft_add_rule(rs, chain, "DHCPv4");
	nft_rule_ports(rs, r, IPPROTO_UDP, out ? 68 : 67, out ? 67 : 68);
	rule_accept(rs, r);
	r = nft_add_rule(rs, chain, "DHCPv6");
	nft_rule_ports(rs, r, IPPROTO_UDP, out ? 546 : 547, out ? 547 : 546);
	rule_accept(rs, r);
	r = nft_add_rule(rs, chain, "IPv6 neighbour discovery");
	nft_rule_stmt(rs, r, NFT_M_ICMPV6_TYPE_SET, 0, "ndp");
	rule_accept(rs, r);
}

static void tunnel_rule(struct nft_ruleset *rs, const struct nft_killswitch_policy *p, const char *chain,
			enum nft_stmt_kind dev)
{
	for (int outer = 0; outer < 2; outer++) {
		const char *name = outer ? p->tunnel_outer : p->tunnel;
		if (!name || !p->tunnel || (outer && strcmp(chain, "forward") == 0))
			continue; /* the outer one only carries the inner one's packets: this host's own */
		struct nft_rule *r = nft_add_rule(rs, chain,
						  outer ? (p->allow_ipv6 ? "the outer tunnel" : "the outer tunnel (IPv4 only)")
							: (p->allow_ipv6 ? "the tunnel" : "the tunnel (IPv4 only)"));
		nft_rule_stmt(rs, r, dev, 0, name);
		if (!p->allow_ipv6)
			nft_rule_stmt(rs, r, NFT_M_NFPROTO, NFT_V4, NULL);
		rule_accept(rs, r);
	}
}

static void lan_rules(struct nft_ruleset *rs, const struct nft_killswitch_policy *p, const char *chain,
		      enum nft_stmt_kind kind)
{
	if (!p->allow_lan)
		return;
	struct nft_rule *r = nft_add_rule(rs, chain, "local networks");
	nft_rule_stmt(rs, r, kind, NFT_V4, "lan_v4");
	rule_accept(rs, r);
	if (!p->allow_ipv6)
		return;
	r = nft_add_rule(rs, chain, "local networks (IPv6)");
	nft_rule_stmt(rs, r, kind, NFT_V6, "lan_v6");
	rule_accept(rs, r);
}

static int endpoint_rule(struct nft_ruleset *rs, const struct nft_killswitch_policy *p,
			 const struct nft_killswitch_endpoint *e)
{
	if (e->family != AF_INET && e->family != AF_INET6)
		return -EINVAL;
	if (e->proto != 0 && e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP)
		return -EINVAL;
	if (e->proto == 0 && e->port != 0)
		return -EINVAL;
	struct nft_rule *r = nft_add_rule(rs, "output", "gateway endpoint, marked sockets only");
	if (p->fwmark)
		nft_rule_mark(rs, r, p->fwmark);
	nft_rule_daddr(rs, r, e->family == AF_INET6 ? NFT_V6 : NFT_V4, e->addr);
	if (e->port)
		nft_rule_dport(rs, r, e->proto, e->port);
	else if (e->proto)
		nft_rule_stmt(rs, r, NFT_M_L4PROTO, e->proto, NULL);
	rule_accept(rs, r);
	return 0;
}

/* Router mode's rules in the filter chains: the LAN interfaces may talk to this host. */
static void router_rule(struct nft_ruleset *rs, const struct nft_killswitch_policy *p, const char *chain,
			enum nft_stmt_kind kind)
{
	if (!p->n_router_lan)
		return;
	struct nft_rule *r = nft_add_rule(rs, chain, "router mode: the LAN interfaces");
	nft_rule_stmt(rs, r, kind, 0, "router_lan");
	rule_accept(rs, r);
}

/* Router mode's NAT: masquerade to the tunnel, LAN DNS to the tunnel's resolvers. */
static void router_nat(struct nft_ruleset *rs, const struct nft_killswitch_policy *p)
{
	if (!p->n_router_lan || !p->tunnel)
		return;
	nft_add_base_chain(rs, "postrouting", NFT_HOOK_POSTROUTING, true, 100, false,
			   "router mode: the LAN behind the tunnel's address");
	struct nft_rule *r = nft_add_rule(rs, "postrouting", "LAN through the tunnel");
	nft_rule_stmt(rs, r, NFT_M_IIFNAME_SET, 0, "router_lan");
	nft_rule_stmt(rs, r, NFT_M_OIFNAME, 0, p->tunnel);
	nft_rule_stmt(rs, r, NFT_S_MASQUERADE, 0, NULL);
	nft_add_base_chain(rs, "prerouting", NFT_HOOK_PREROUTING, true, -100, false,
			   "router mode: the LAN's DNS to the tunnel's resolvers");
	static const enum nft_family fams[] = { NFT_V4, NFT_V6 };
	for (size_t f = 0; f < 2; f++) {
		if (fams[f] == NFT_V6 && !p->allow_ipv6)
			continue;
		const struct nft_killswitch_net *dns = NULL;
		for (size_t i = 0; i < p->n_router_dns && !dns; i++)
			if (p->router_dns[i].family == (fams[f] == NFT_V6 ? AF_INET6 : AF_INET))
				dns = &p->router_dns[i];
		if (!dns)
			continue;
		for (int t = 0; t < 2; t++) {
			r = nft_add_rule(rs, "prerouting", t ? "LAN DNS (TCP) through the tunnel" : "LAN DNS (UDP) through the tunnel");
			nft_rule_stmt(rs, r, NFT_M_IIFNAME_SET, 0, "router_lan");
			nft_rule_stmt(rs, r, NFT_M_NFPROTO, fams[f], NULL);
			nft_rule_dport(rs, r, t ? IPPROTO_TCP : IPPROTO_UDP, 53);
			nft_rule_dnat(rs, r, fams[f], dns->addr);
		}
	}
}

int nft_killswitch_build(const struct nft_killswitch_policy *p, struct nft_ruleset *rs)
{
	nft_ruleset_init(rs, p->table ? p->table : "");
	if (!p->table || !p->table[0])
		return rs->error = -EINVAL;
	if (p->tunnel_outer && (!p->tunnel_outer[0] || strlen(p->tunnel_outer) >= NFT_IFNAME_LEN))
		return rs->error = -EINVAL;
	if (p->tunnel && (!p->tunnel[0] || strlen(p->tunnel) >= NFT_IFNAME_LEN))
		return rs->error = -EINVAL;
	if ((p->n_endpoints && !p->endpoints) || (p->n_lan && !p->lan) || (p->n_router_lan && !p->router_lan) ||
	    (p->n_router_dns && !p->router_dns))
		return rs->error = -EINVAL;
	for (size_t i = 0; i < p->n_router_lan; i++)
		if (!p->router_lan[i] || !p->router_lan[i][0] || strlen(p->router_lan[i]) >= NFT_IFNAME_LEN ||
		    (p->tunnel && strcmp(p->router_lan[i], p->tunnel) == 0))
			return rs->error = -EINVAL;
	for (size_t i = 0; i < p->n_router_dns; i++)
		if (p->router_dns[i].family != AF_INET && p->router_dns[i].family != AF_INET6)
			return rs->error = -EINVAL;
	snprintf(rs->comment, sizeof(rs->comment), "NymVPN kill switch: nothing leaves but the tunnel");

	struct nft_set *ndp = nft_add_set(rs, "ndp", NFT_KEY_ICMPV6_TYPE, false, false);
	for (size_t i = 0; i < sizeof(ndp_types); i++)
		nft_set_add(rs, ndp, &ndp_types[i], NULL, NFT_VERDICT_NONE, NULL);
	if (p->n_router_lan) {
		struct nft_set *ifs = nft_add_set(rs, "router_lan", NFT_KEY_IFNAME, false, false);
		for (size_t i = 0; i < p->n_router_lan; i++)
			nft_set_add_ifname(rs, ifs, p->router_lan[i]);
	}
	if (p->allow_lan) {
		struct nft_set *v4 = nft_add_set(rs, "lan_v4", NFT_KEY_IPV4, true, false);
		struct nft_set *v6 = p->allow_ipv6 ? nft_add_set(rs, "lan_v6", NFT_KEY_IPV6, true, false) : NULL;
		for (size_t i = 0; i < sizeof(builtin_lan) / sizeof(builtin_lan[0]) + p->n_lan; i++) {
			const struct nft_killswitch_net *n =
				i < sizeof(builtin_lan) / sizeof(builtin_lan[0]) ? &builtin_lan[i]
										 : &p->lan[i - sizeof(builtin_lan) / sizeof(builtin_lan[0])];
			if (check_net(n))
				return rs->error = -EINVAL;
			if (n->family == AF_INET)
				lan_add(rs, v4, n);
			else if (v6)
				lan_add(rs, v6, n);
		}
	}

	/* output */
	nft_add_base_chain(rs, "output", NFT_HOOK_OUTPUT, false, 0, true, "what may leave this host");
	struct nft_rule *r = nft_add_rule(rs, "output", "loopback");
	nft_rule_stmt(rs, r, NFT_M_OIFNAME, 0, "lo");
	rule_accept(rs, r);
	tunnel_rule(rs, p, "output", NFT_M_OIFNAME);
	for (int t = 0; t < 2; t++) {
		r = nft_add_rule(rs, "output", t ? "DNS (TCP) only through the tunnel" : "DNS (UDP) only through the tunnel");
		if (p->tunnel)
			nft_rule_stmt(rs, r, NFT_M_OIFNAME_NOT, 0, p->tunnel);
		nft_rule_dport(rs, r, t ? IPPROTO_TCP : IPPROTO_UDP, 53);
		nft_rule_stmt(rs, r, NFT_V_DROP, 0, NULL);
	}
	for (size_t i = 0; i < p->n_endpoints; i++) {
		int rc = endpoint_rule(rs, p, &p->endpoints[i]);
		if (rc)
			return rs->error = rc;
	}
	dhcp_rules(rs, "output", true);
	lan_rules(rs, p, "output", NFT_M_DADDR_SET);
	router_rule(rs, p, "output", NFT_M_OIFNAME_SET);

	/* input */
	nft_add_base_chain(rs, "input", NFT_HOOK_INPUT, false, 0, true, "what may reach this host");
	r = nft_add_rule(rs, "input", "replies and related traffic");
	nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_ESTABLISHED | NFT_CT_RELATED, NULL);
	rule_accept(rs, r);
	r = nft_add_rule(rs, "input", "loopback");
	nft_rule_stmt(rs, r, NFT_M_IIFNAME, 0, "lo");
	rule_accept(rs, r);
	tunnel_rule(rs, p, "input", NFT_M_IIFNAME);
	dhcp_rules(rs, "input", false);
	lan_rules(rs, p, "input", NFT_M_SADDR_SET);
	router_rule(rs, p, "input", NFT_M_IIFNAME_SET);

	/* forward */
	nft_add_base_chain(rs, "forward", NFT_HOOK_FORWARD, false, 0, true, "only to and from the tunnel");
	tunnel_rule(rs, p, "forward", NFT_M_IIFNAME);
	tunnel_rule(rs, p, "forward", NFT_M_OIFNAME);
	router_nat(rs, p);
	return rs->error;
}

int nft_killswitch_apply(const struct nft_killswitch_policy *p, struct nft_batch_error *err)
{
	struct nft_ruleset rs;
	struct nft_objects o;
	if (err)
		memset(err, 0, sizeof(*err));
	int rc = nft_killswitch_build(p, &rs);
	if (!rc && !(rc = nft_encode(&rs, &o))) {
		struct nft_batch_error local;
		rc = nft_batch_replace(&o, err ? err : &local);
		nft_objects_free(&o);
	}
	nft_ruleset_free(&rs);
	return rc;
}

int nft_killswitch_remove(const char *table, struct nft_batch_error *err)
{
	struct nft_batch_error local;
	if (!table || !table[0] || strlen(table) >= NFT_NAME_LEN)
		return -EINVAL;
	return nft_batch_delete_table(table, err ? err : &local);
}

int nft_killswitch_present(const char *table)
{
	if (!table || !table[0] || strlen(table) >= NFT_NAME_LEN)
		return -EINVAL;
	struct nft_objects o;
	bool exists = false;
	memset(&o, 0, sizeof(o));
	int rc = nft_dump_table(table, &o, &exists);
	nft_objects_free(&o);
	if (rc)
		return rc;
	return exists ? 1 : 0;
}
