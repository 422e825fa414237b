#include "nft/nft_gateway.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nft/nft_policy.h"

static void add_ports(struct nft_ruleset *rs, struct nft_set *s, const struct nft_gateway_ports *p)
{
	for (size_t i = 0; i < p->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < s->n_elems; j++)
			if (((unsigned)s->elems[j].lo[0] << 8 | s->elems[j].lo[1]) == p->port[i])
				dup = true;
		if (!dup)
			nft_set_add_port(rs, s, p->port[i], p->port[i]);
	}
}

/* ICMPv6 the host needs in: neighbour discovery, router adverts for SLAAC uplinks, and the
 * errors that path MTU discovery depends on. */
static const uint8_t icmpv6_in[] = { 1, 2, 3, 4, 134, 135, 136 };

static void build_input(const struct nft_gateway *g, struct nft_ruleset *rs, bool gateway)
{
	nft_add_base_chain(rs, "input", NFT_HOOK_INPUT, false, 0, true, "the node's own ports");
	struct nft_set *tcp = nft_add_set(rs, "tcp_ports", NFT_KEY_PORT, false, false);
	add_ports(rs, tcp, &g->tcp);
	if (gateway)
		add_ports(rs, tcp, &g->gateway_tcp);
	struct nft_set *udp = nft_add_set(rs, "udp_ports", NFT_KEY_PORT, false, false);
	add_ports(rs, udp, &g->udp);
	if (gateway)
		add_ports(rs, udp, &g->gateway_udp);
	struct nft_set *icmp6 = nft_add_set(rs, "icmpv6_in", NFT_KEY_ICMPV6_TYPE, false, false);
	for (size_t i = 0; i < sizeof(icmpv6_in); i++)
		nft_set_add(rs, icmp6, &icmpv6_in[i], NULL, NFT_VERDICT_NONE, NULL);

	struct nft_rule *r = nft_add_rule(rs, "input", "loopback");
	nft_rule_stmt(rs, r, NFT_M_IIFNAME, 0, "lo");
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	r = nft_add_rule(rs, "input", "replies and related traffic");
	nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_ESTABLISHED | NFT_CT_RELATED, NULL);
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	r = nft_add_rule(rs, "input", "invalid");
	nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_INVALID, NULL);
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_DROP, 0, NULL);
	for (int fam = 0; fam < 2; fam++) {
		r = nft_add_rule(rs, "input", fam ? "ping (IPv6)" : "ping");
		nft_rule_stmt(rs, r, NFT_M_ICMP_ECHO, fam ? NFT_V6 : NFT_V4, NULL);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	}
	r = nft_add_rule(rs, "input", "IPv6 neighbour discovery and errors");
	nft_rule_stmt(rs, r, NFT_M_ICMPV6_TYPE_SET, 0, "icmpv6_in");
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	r = nft_add_rule(rs, "input", "node ports (TCP)");
	nft_rule_stmt(rs, r, NFT_M_DPORT_SET, IPPROTO_TCP, "tcp_ports");
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	r = nft_add_rule(rs, "input", "node ports (UDP)");
	nft_rule_stmt(rs, r, NFT_M_DPORT_SET, IPPROTO_UDP, "udp_ports");
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	if (gateway && g->wireguard_ifname[0] && g->wireguard_tcp.n) {
		struct nft_set *wg = nft_add_set(rs, "wireguard_tcp_ports", NFT_KEY_PORT, false, false);
		add_ports(rs, wg, &g->wireguard_tcp);
		r = nft_add_rule(rs, "input", "WireGuard metadata, on the WireGuard interface only");
		nft_rule_stmt(rs, r, NFT_M_IIFNAME, 0, g->wireguard_ifname);
		nft_rule_stmt(rs, r, NFT_M_DPORT_SET, IPPROTO_TCP, "wireguard_tcp_ports");
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	}
	if (gateway && g->n_tunnels) {
		for (int t = 0; t < 2; t++) {
			r = nft_add_rule(rs, "input", t ? "DNS for tunnel clients (UDP)" : "DNS for tunnel clients (TCP)");
			nft_rule_stmt(rs, r, NFT_M_IIFNAME_SET, 0, "tunnels");
			nft_rule_dport(rs, r, t ? IPPROTO_UDP : IPPROTO_TCP, 53);
			nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
			nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
		}
	}
	r = nft_add_rule(rs, "input", "everything else");
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_DROP, 0, NULL);
}

static void build_forward(const struct nft_gateway *g, struct nft_ruleset *rs)
{
	nft_add_base_chain(rs, "forward", NFT_HOOK_FORWARD, false, 0, false,
			   "tunnel clients out of the uplinks, through the policy");
	struct nft_rule *r;
	if (g->n_offload_devices) {
		/* The policy decided on the connection's first packet; the rest may skip it. */
		struct nft_flowtable *ft = nft_add_flowtable(rs, NFT_GATEWAY_FLOWTABLE, 0);
		for (size_t i = 0; i < g->n_offload_devices; i++)
			nft_flowtable_add_device(rs, ft, g->offload_devices[i]);
		r = nft_add_rule(rs, "forward", "established connections leave for the flowtable");
		nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_ESTABLISHED, NULL);
		nft_rule_stmt(rs, r, NFT_S_FLOW_ADD, 0, NFT_GATEWAY_FLOWTABLE);
	}
	r = nft_add_rule(rs, "forward", "replies and related traffic");
	nft_rule_stmt(rs, r, NFT_M_CT_STATE, NFT_CT_ESTABLISHED | NFT_CT_RELATED, NULL);
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	for (int fam = 0; fam < 2; fam++) {
		const char *up = fam ? g->uplink_v6 : g->uplink_v4;
		if (!up[0])
			continue;
		r = nft_add_rule(rs, "forward", fam ? "new connections to the IPv6 uplink" : "new connections to the IPv4 uplink");
		nft_rule_stmt(rs, r, NFT_M_NFPROTO, fam ? NFT_V6 : NFT_V4, NULL);
		nft_rule_stmt(rs, r, NFT_M_IIFNAME_SET, 0, "tunnels");
		nft_rule_stmt(rs, r, NFT_M_OIFNAME, 0, up);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_V_JUMP, 0, NFT_POLICY_CHAIN);
	}
	r = nft_add_rule(rs, "forward", "tunnels to anywhere else");
	nft_rule_stmt(rs, r, NFT_M_IIFNAME_SET, 0, "tunnels");
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_DROP, 0, NULL);
	r = nft_add_rule(rs, "forward", "new connections into the tunnels");
	nft_rule_stmt(rs, r, NFT_M_OIFNAME_SET, 0, "tunnels");
	nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(rs, r, NFT_V_DROP, 0, NULL);
}

static void add_prefix(struct nft_ruleset *rs, struct nft_set *s, const uint8_t *addr, uint8_t prefix, size_t n)
{
	uint8_t lo[16], hi[16];
	memcpy(lo, addr, n);
	memcpy(hi, addr, n);
	for (size_t i = 0; i < n; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t host = prefix >= bit0 + 8 ? 0 : prefix <= bit0 ? 0xff : (uint8_t)(0xff >> (prefix - bit0));
		lo[i] &= (uint8_t)~host;
		hi[i] |= host;
	}
	nft_set_add(rs, s, lo, hi, NFT_VERDICT_NONE, NULL);
}

static void build_nat(const struct nft_gateway *g, struct nft_ruleset *rs)
{
	nft_add_base_chain(rs, "postrouting", NFT_HOOK_POSTROUTING, true, 100, false,
			   "tunnel clients leave with the uplink's address");
	for (int fam = 0; fam < 2; fam++) {
		const char *up = fam ? g->uplink_v6 : g->uplink_v4;
		if (!up[0])
			continue;
		const char *set = fam ? "nat_v6" : "nat_v4";
		struct nft_set *s = nft_add_set(rs, set, fam ? NFT_KEY_IPV6 : NFT_KEY_IPV4, true, false);
		size_t before = s->n_elems;
		for (size_t i = 0; i < g->n_tunnels; i++) {
			const struct nft_gateway_tunnel *t = &g->tunnels[i];
			if (fam == 0 && t->has_v4)
				add_prefix(rs, s, t->v4, t->v4_prefix, 4);
			if (fam == 1 && t->has_v6)
				add_prefix(rs, s, t->v6, t->v6_prefix, 16);
		}
		if (s->n_elems == before)
			continue;
		struct nft_rule *r = nft_add_rule(rs, "postrouting", fam ? "tunnel subnets (IPv6)" : "tunnel subnets (IPv4)");
		nft_rule_stmt(rs, r, NFT_M_OIFNAME, 0, up);
		nft_rule_stmt(rs, r, NFT_M_SADDR_SET, fam ? NFT_V6 : NFT_V4, set);
		nft_rule_stmt(rs, r, NFT_S_COUNTER, 0, NULL);
		nft_rule_stmt(rs, r, NFT_S_MASQUERADE, 0, NULL);
	}
}

int nft_gateway_build(const struct nft_gateway *g, struct nft_ruleset *rs)
{
	nft_ruleset_init(rs, g->table);
	if (g->comment)
		snprintf(rs->comment, sizeof(rs->comment), "%s", g->comment);
	bool gateway = g->mode != NFT_GATEWAY_MIXNODE;
	if (gateway) {
		if (!g->policy || !g->compiled || g->n_tunnels == 0)
			return rs->error = -EINVAL;
		struct nft_set *tun = nft_add_set(rs, "tunnels", NFT_KEY_IFNAME, false, false);
		for (size_t i = 0; i < g->n_tunnels; i++)
			nft_set_add_ifname(rs, tun, g->tunnels[i].ifname);
	}
	if (g->host_firewall)
		build_input(g, rs, gateway);
	if (gateway) {
		build_forward(g, rs);
		build_nat(g, rs);
		nft_policy_emit(rs, g->policy, g->compiled);
	}
	return rs->error;
}
