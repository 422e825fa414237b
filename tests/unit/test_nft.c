/* The nftables layer without a kernel: the nft-syntax printer, the libnftnl encoding of
 * interval sets, the errors the encoder refuses, and a policy's round trip through
 * interval maps and chains back to a matcher that answers as the compiled policy does. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nft_dump.h"
#include "nft/nft_encode.h"
#include "nft/nft_gateway.h"
#include "nft/nft_policy.h"
#include "nft/nft_ruleset.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"

static char *print(const struct nft_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(nft_ruleset_print(rs, f), 0);
	fclose(f);
	return buf;
}

Test(nft, printer_writes_nft_syntax)
{
	struct nft_ruleset rs;
	nft_ruleset_init(&rs, "t");
	snprintf(rs.comment, sizeof(rs.comment), "state");
	struct nft_set *s = nft_add_set(&rs, "ports", NFT_KEY_PORT, true, false);
	nft_set_add_port(&rs, s, 22, 22);
	nft_set_add_port(&rs, s, 1000, 2000);
	struct nft_set *m = nft_add_set(&rs, "dst", NFT_KEY_IPV4, true, true);
	uint8_t a[4] = { 10, 0, 0, 0 }, b[4] = { 10, 0, 255, 255 }, c[4] = { 10, 1, 0, 0 }, d[4] = { 10, 1, 0, 9 };
	nft_set_add(&rs, m, a, b, NFT_VERDICT_GOTO, "x");
	nft_set_add(&rs, m, c, d, NFT_VERDICT_ACCEPT, NULL);
	nft_add_base_chain(&rs, "forward", NFT_HOOK_FORWARD, false, 0, true, "fwd");
	nft_add_chain(&rs, "x", NULL);
	struct nft_rule *r = nft_add_rule(&rs, "forward", "established");
	nft_rule_stmt(&rs, r, NFT_M_CT_STATE, NFT_CT_ESTABLISHED | NFT_CT_RELATED, NULL);
	nft_rule_stmt(&rs, r, NFT_S_COUNTER, 0, NULL);
	nft_rule_stmt(&rs, r, NFT_V_ACCEPT, 0, NULL);
	r = nft_add_rule(&rs, "forward", NULL);
	nft_rule_stmt(&rs, r, NFT_M_DPORT_SET, IPPROTO_TCP, "ports");
	nft_rule_stmt(&rs, r, NFT_V_VMAP_DADDR, NFT_V4, "dst");
	r = nft_add_rule(&rs, "x", NULL);
	nft_rule_stmt(&rs, r, NFT_M_L4PROTO, IPPROTO_TCP, NULL);
	nft_rule_stmt(&rs, r, NFT_V_REJECT_TCP, 0, NULL);
	r = nft_add_rule(&rs, "x", NULL);
	nft_rule_limit(&rs, r, NFT_V6, "ports", 30, 60, 60);
	nft_rule_stmt(&rs, r, NFT_V_REJECT_PORT, 0, NULL);
	cr_assert_eq(rs.error, 0);
	char *text = print(&rs);
	const char *want = "table inet t {\n"
			   "\tcomment \"state\"\n"
			   "\n"
			   "\tset ports {\n"
			   "\t\ttype inet_service\n"
			   "\t\tflags interval\n"
			   "\t\telements = { 22, 1000-2000 }\n"
			   "\t}\n"
			   "\n"
			   "\tmap dst {\n"
			   "\t\ttype ipv4_addr : verdict\n"
			   "\t\tflags interval\n"
			   "\t\telements = { 10.0.0.0/16 : goto x,\n"
			   "\t\t\t     10.1.0.0-10.1.0.9 : accept }\n"
			   "\t}\n"
			   "\n"
			   "\tchain forward {\n"
			   "\t\ttype filter hook forward priority filter; policy drop;\n"
			   "\t\tcomment \"fwd\"\n"
			   "\t\tct state established,related counter accept comment \"established\"\n"
			   "\t\ttcp dport @ports ip daddr vmap @dst\n"
			   "\t}\n"
			   "\n"
			   "\tchain x {\n"
			   "\t\tmeta l4proto tcp reject with tcp reset\n"
			   "\t\tupdate @ports { ip6 saddr limit rate over 30/minute burst 60 packets } reject with icmpx port-unreachable\n"
			   "\t}\n"
			   "}\n";
	cr_assert_str_eq(text, want);
	free(text);
	nft_ruleset_free(&rs);
}

static int encode_one_rule(enum nft_stmt_kind k1, enum nft_stmt_kind k2, const char *chain)
{
	struct nft_ruleset rs;
	nft_ruleset_init(&rs, "t");
	nft_add_chain(&rs, "c", NULL);
	nft_add_set(&rs, "s", NFT_KEY_PORT, false, false);
	struct nft_rule *r = nft_add_rule(&rs, chain, NULL);
	nft_rule_stmt(&rs, r, k1, IPPROTO_TCP, "s");
	nft_rule_stmt(&rs, r, k2, 0, "nope");
	struct nft_objects o;
	int rc = nft_encode(&rs, &o);
	if (rc == 0)
		nft_objects_free(&o);
	nft_ruleset_free(&rs);
	return rc;
}

Test(nft, encoder_refuses_what_the_kernel_would)
{
	cr_assert_eq(encode_one_rule(NFT_M_DPORT_SET, NFT_V_ACCEPT, "c"), 0);
	/* A reset needs a TCP match first. */
	cr_assert_eq(encode_one_rule(NFT_S_COUNTER, NFT_V_REJECT_TCP, "c"), -EINVAL);
	cr_assert_eq(encode_one_rule(NFT_M_L4PROTO, NFT_V_REJECT_TCP, "c"), 0);
	/* Unknown set, unknown chain. */
	cr_assert_eq(encode_one_rule(NFT_M_DPORT_SET, NFT_V_VMAP_DPORT, "c"), -EINVAL);
	cr_assert_eq(encode_one_rule(NFT_M_DPORT_SET, NFT_V_ACCEPT, "missing"), -EINVAL);

	struct nft_ruleset rs;
	nft_ruleset_init(&rs, "t");
	struct nft_set *s = nft_add_set(&rs, "s", NFT_KEY_PORT, true, false);
	nft_set_add_port(&rs, s, 10, 20);
	nft_set_add_port(&rs, s, 20, 30); /* overlaps */
	struct nft_objects o;
	cr_assert_eq(nft_encode(&rs, &o), -EINVAL);
	nft_ruleset_free(&rs);

	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	nft_ruleset_init(&rs, "t");
	nft_add_chain(&rs, longname, NULL);
	cr_assert_eq(rs.error, -EINVAL);
	cr_assert_eq(nft_encode(&rs, &o), -EINVAL);
	nft_ruleset_free(&rs);
}

/* Interval elements as nft sends them: start keys, an end key after each range unless it
 * reaches the top, and an end key at 0 when the first range does not start there. */
Test(nft, interval_elements)
{
	struct nft_ruleset rs;
	nft_ruleset_init(&rs, "t");
	nft_add_chain(&rs, "a", NULL);
	struct nft_set *m = nft_add_set(&rs, "m", NFT_KEY_PORT, true, true);
	uint16_t k[][2] = { { 100, 199 }, { 200, 65535 }, { 10, 20 } };
	for (int i = 0; i < 3; i++) {
		uint16_t lo = htons(k[i][0]), hi = htons(k[i][1]);
		nft_set_add(&rs, m, &lo, &hi, NFT_VERDICT_GOTO, "a");
	}
	struct nft_objects o;
	cr_assert_eq(nft_encode(&rs, &o), 0);
	struct nft_dump_elem *el;
	size_t n;
	cr_assert_eq(nft_dump_set_elems(&o, "m", &el, &n), 0);
	/* 0 end, 10 start, 21 end, 100 start, 200 end, 200 start (no end: reaches 65535). */
	static const struct {
		uint16_t key;
		bool end;
	} want[] = { { 0, true }, { 10, false }, { 21, true }, { 100, false }, { 200, true }, { 200, false } };
	cr_assert_eq(n, 6);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(el[i].key_len, 2);
		cr_assert_eq((uint16_t)(el[i].key[0] << 8 | el[i].key[1]), want[i].key, "element %zu", i);
		cr_assert_eq(el[i].interval_end, want[i].end, "element %zu", i);
		if (!want[i].end)
			cr_assert_str_eq(el[i].chain, "a");
	}
	free(el);
	nft_objects_free(&o);
	nft_ruleset_free(&rs);
}

static void roundtrip(const char *text, int probes)
{
	struct policy p;
	struct policy_error err;
	cr_assert_eq(policy_parse(text, strlen(text), &p, &err), 0, "%u:%u %s", err.line, err.column, err.message);
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct nft_ruleset rs;
	nft_ruleset_init(&rs, "t");
	cr_assert_eq(nft_policy_emit(&rs, &p, &c), 0);
	struct nft_objects o;
	cr_assert_eq(nft_encode(&rs, &o), 0);
	struct nft_policy_decoded d;
	cr_assert_eq(nft_policy_decode(&o, &d), 0);

	/* Canonical forms are stable and see a change. */
	struct nft_canon x, y;
	cr_assert_eq(nft_canon_build(&o, &x), 0);
	cr_assert_eq(nft_canon_build(&o, &y), 0);
	cr_assert_eq(nft_canon_diff(&x, &y, NULL, 0), 0);
	nft_canon_free(&y);

	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < probes; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		struct policy_addr a = { .family = (s & 1) ? POLICY_FAMILY_V6 : POLICY_FAMILY_V4 };
		/* Aim at rule boundaries half of the time. */
		if ((s >> 1) & 1 && p.n_rules) {
			const struct policy_rule *r = &p.rules[(s >> 8) % p.n_rules];
			a.family = r->family;
			memcpy(a.bytes, r->addr, 16);
			if ((s >> 2) & 1)
				a.bytes[r->family == POLICY_FAMILY_V4 ? 3 : 15] ^= (uint8_t)(s >> 40);
		} else {
			for (int j = 0; j < 16; j++)
				a.bytes[j] = (uint8_t)(s >> (j * 4));
		}
		enum policy_proto proto = (enum policy_proto)((s >> 20) % POLICY_PROTO_COUNT);
		uint16_t port = (uint16_t)(s >> 24);
		if ((s >> 3) & 1)
			port = (uint16_t)(port % 1100);
		struct policy_verdict want, got;
		policy_compiled_lookup(&c, &a, proto, port, &want);
		policy_compiled_lookup(&d.compiled, &a, proto, port, &got);
		cr_assert_eq(want.accept, got.accept, "probe %d", i);
		cr_assert_eq(policy_compiled_network_rejected(&c, &a), policy_compiled_network_rejected(&d.compiled, &a),
			     "probe %d: rejected by network", i);
		cr_assert_eq(policy_compiled_network_rejected(&c, &a), policy_network_rejected(&p, &a), "probe %d", i);
		if (want.entry == POLICY_NO_ENTRY) {
			cr_assert_eq(got.entry, POLICY_NO_ENTRY, "probe %d", i);
		} else {
			cr_assert_neq(got.entry, POLICY_NO_ENTRY, "probe %d", i);
			cr_assert_eq(d.entries[got.entry].line, p.entries[want.entry].line, "probe %d", i);
			cr_assert_str_eq(d.entries[got.entry].text, p.entries[want.entry].text);
		}
	}

	nft_canon_free(&x);
	nft_policy_decoded_free(&d);
	nft_objects_free(&o);
	nft_ruleset_free(&rs);
	policy_compiled_free(&c);
	policy_free(&p);
}

Test(nft, policy_round_trip_small)
{
	roundtrip("reject 198.51.100.0/24:*\n"
		  "accept *:53\n"
		  "accept *:* icmp\n"
		  "accept *:465 tcp limit 30/minute burst 60\n"
		  "accept [2001:db8::]/32:443 udp, reject6 *:443\n"
		  "accept *:80-81\n"
		  "reject *:*\n",
		  20000);
	/* Without a final reject there are gaps: the implicit end. */
	roundtrip("accept 203.0.113.0/24:443\naccept6 [::1]:1-1000\n", 20000);
	/* Networks rejected whole (DNS and ping do not pass) at the edges of the space. */
	roundtrip("reject 0.0.0.0/8:*\nreject 255.255.255.0/24:1-65535\nreject 10.0.0.0/8:1-1000\n"
		  "reject6 [::]/8:*\nreject6 [ff00::]/8:*\nreject 198.51.100.0/24:*\naccept *:443\nreject *:*\n",
		  20000);
	roundtrip("reject *:*\n", 2000);
}

Test(nft, policy_round_trip_default)
{
	FILE *f = fopen("packaging/exit-policy.txt", "rb");
	cr_assert_not_null(f);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	roundtrip(text, 50000);
}

Test(nft, canon_sees_a_changed_rule)
{
	struct nft_ruleset a, b;
	for (int i = 0; i < 2; i++) {
		struct nft_ruleset *rs = i ? &b : &a;
		nft_ruleset_init(rs, "t");
		nft_add_chain(rs, "c", NULL);
		struct nft_rule *r = nft_add_rule(rs, "c", NULL);
		nft_rule_dport(rs, r, IPPROTO_TCP, i ? 23 : 22);
		nft_rule_stmt(rs, r, NFT_V_ACCEPT, 0, NULL);
	}
	struct nft_objects oa, ob;
	struct nft_canon ca, cb;
	cr_assert_eq(nft_encode(&a, &oa), 0);
	cr_assert_eq(nft_encode(&b, &ob), 0);
	cr_assert_eq(nft_canon_build(&oa, &ca), 0);
	cr_assert_eq(nft_canon_build(&ob, &cb), 0);
	cr_assert_eq(nft_canon_diff(&ca, &cb, NULL, 0), 2);
	nft_canon_free(&ca);
	nft_canon_free(&cb);
	nft_objects_free(&oa);
	nft_objects_free(&ob);
	nft_ruleset_free(&a);
	nft_ruleset_free(&b);
}

/* The gateway table: what each mode contains. */
Test(nft, gateway_modes)
{
	struct policy p;
	struct policy_error err;
	const char *text = "accept *:443\nreject *:*\n";
	cr_assert_eq(policy_parse(text, strlen(text), &p, &err), 0);
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct nft_gateway g;
	memset(&g, 0, sizeof(g));
	g.table = "nym-ntm";
	g.mode = NFT_GATEWAY_EXIT;
	strcpy(g.uplink_v4, "eth0");
	strcpy(g.tunnels[0].ifname, "nymwg");
	g.tunnels[0].has_v4 = true;
	g.tunnels[0].v4[0] = 10;
	g.tunnels[0].v4[1] = 1;
	g.tunnels[0].v4_prefix = 16;
	g.n_tunnels = 1;
	g.host_firewall = true;
	g.tcp.port[g.tcp.n++] = 22;
	g.policy = &p;
	g.compiled = &c;
	struct nft_ruleset rs;
	cr_assert_eq(nft_gateway_build(&g, &rs), 0);
	cr_assert_not_null(nft_find_chain(&rs, "input"));
	cr_assert_not_null(nft_find_chain(&rs, "forward"));
	cr_assert_not_null(nft_find_chain(&rs, "postrouting"));
	cr_assert_not_null(nft_find_set(&rs, "nat_v4"));
	cr_assert_null(nft_find_set(&rs, "nat_v6"), "no IPv6 uplink, no IPv6 NAT");
	char *out = print(&rs);
	cr_assert(strstr(out, "meta nfproto ipv4 iifname @tunnels oifname \"eth0\" counter jump tunnel_policy"));
	cr_assert_null(strstr(out, "meta nfproto ipv6 iifname"), "IPv6 forwarded without an uplink");
	cr_assert(strstr(out, "oifname \"eth0\" ip saddr @nat_v4 counter masquerade"));
	free(out);
	nft_ruleset_free(&rs);

	cr_assert_null(rs.flowtable, "no offload devices, no flowtable");

	/* With offload devices: a flowtable on them, and the offload rule first in forward,
	 * before any policy decision could be skipped for a new connection. */
	strcpy(g.offload_devices[0], "nymwg");
	strcpy(g.offload_devices[1], "eth0");
	g.n_offload_devices = 2;
	cr_assert_eq(nft_gateway_build(&g, &rs), 0);
	cr_assert_not_null(rs.flowtable);
	cr_assert_eq(rs.flowtable->n_devices, 2);
	size_t first_forward = rs.n_rules;
	for (size_t i = 0; i < rs.n_rules && first_forward == rs.n_rules; i++)
		if (strcmp(rs.rules[i].chain, "forward") == 0)
			first_forward = i;
	cr_assert_lt(first_forward, rs.n_rules);
	const struct nft_rule *fr = &rs.rules[first_forward];
	cr_assert_eq(fr->n_stmts, 2);
	cr_assert_eq(fr->stmts[0].kind, NFT_M_CT_STATE);
	cr_assert_eq(fr->stmts[0].arg, NFT_CT_ESTABLISHED, "only established connections are offloaded");
	cr_assert_eq(fr->stmts[1].kind, NFT_S_FLOW_ADD);
	out = print(&rs);
	cr_assert(strstr(out, "flowtable fastpath {\n\t\thook ingress priority filter\n\t\tdevices = { nymwg, eth0 }\n\t}"), "%s", out);
	cr_assert(strstr(out, "ct state established flow add @fastpath"));
	free(out);
	struct nft_objects o;
	cr_assert_eq(nft_encode(&rs, &o), 0);
	cr_assert_not_null(o.flowtable);
	struct nft_canon canon;
	cr_assert_eq(nft_canon_build(&o, &canon), 0);
	bool seen = false;
	for (size_t i = 0; i < canon.n; i++)
		seen |= strcmp(canon.lines[i], "flowtable fastpath hook=0 prio=0 devices=eth0,nymwg") == 0;
	cr_assert(seen, "canonical flowtable line with sorted devices");
	nft_canon_free(&canon);
	nft_objects_free(&o);
	nft_ruleset_free(&rs);
	g.n_offload_devices = 0;

	g.mode = NFT_GATEWAY_MIXNODE;
	cr_assert_eq(nft_gateway_build(&g, &rs), 0);
	cr_assert_eq(rs.n_chains, 1);
	cr_assert_str_eq(rs.chains[0].name, "input");
	nft_ruleset_free(&rs);

	g.mode = NFT_GATEWAY_EXIT;
	g.n_tunnels = 0;
	cr_assert_eq(nft_gateway_build(&g, &rs), -EINVAL, "a gateway without tunnels");
	nft_ruleset_free(&rs);
	policy_compiled_free(&c);
	policy_free(&p);
}
