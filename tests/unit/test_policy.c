/* Exit policy: parser errors, first-match semantics, the compiled form against the reference
 * matcher, and Nym's default policy as shipped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"

static struct policy parse_ok(const char *text)
{
	struct policy p;
	struct policy_error err;
	int rc = policy_parse(text, strlen(text), &p, &err);
	cr_assert_eq(rc, 0, "parse failed at %u:%u: %s", err.line, err.column, err.message);
	return p;
}

static struct policy_addr addr(const char *s)
{
	struct policy_addr a;
	cr_assert_eq(policy_addr_parse(s, &a), 0, "bad test address %s", s);
	return a;
}

/* Decides with both matchers, checks they agree, returns the verdict. */
static struct policy_verdict decide(const struct policy *p, const struct policy_compiled *c,
				    const char *dst, enum policy_proto proto, uint16_t port)
{
	struct policy_addr a = addr(dst);
	struct policy_verdict lin, fast;
	policy_match(p, &a, proto, port, &lin);
	policy_compiled_lookup(c, &a, proto, port, &fast);
	cr_assert_eq(lin.entry, fast.entry, "%s:%u/%s: linear entry %u, compiled entry %u", dst, port,
		     policy_proto_name(proto), lin.entry, fast.entry);
	cr_assert_eq(lin.accept, fast.accept);
	cr_assert_eq(policy_network_rejected(p, &a), policy_compiled_network_rejected(c, &a),
		     "%s: rejected by network: linear %d", dst, policy_network_rejected(p, &a));
	return lin;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

Test(policy, parses_entries_lines_and_canonical_text)
{
	struct policy p = parse_ok("# comment\n"
				   "ExitPolicy reject 5.188.10.0/23:*\r\n"
				   "\n"
				   "  exitpolicy ACCEPT *:80-81, accept [2001:DB8::]/32:443 # trailing\n"
				   "accept6 *:22 udp\n"
				   "ExitPolicy accept *:465 tcp limit 30/minute burst 60\n"
				   "reject 10.0.0.0/255.0.0.0:*\n"
				   "reject *:*\n");
	cr_assert_eq(p.n_entries, 7);
	cr_assert_eq(p.entries[0].line, 2);
	cr_assert_eq(p.entries[0].column, 12);
	cr_assert_str_eq(p.entries[0].text, "reject 5.188.10.0/23:*");
	cr_assert_eq(p.entries[1].line, 4);
	cr_assert_eq(p.entries[1].column, 14);
	cr_assert_str_eq(p.entries[1].text, "accept *:80-81");
	cr_assert_eq(p.entries[2].line, 4);
	cr_assert_eq(p.entries[2].column, 30);
	cr_assert_str_eq(p.entries[2].text, "accept [2001:db8::]/32:443");
	cr_assert_str_eq(p.entries[3].text, "accept6 *:22 udp");
	cr_assert_eq(p.entries[3].protos, POLICY_PROTO_BIT(POLICY_PROTO_UDP));
	cr_assert_str_eq(p.entries[4].text, "accept *:465 tcp limit 30/minute burst 60");
	cr_assert_eq(p.entries[4].limit.rate, 30);
	cr_assert_eq(p.entries[4].limit.unit_s, 60);
	cr_assert_eq(p.entries[4].limit.burst, 60);
	cr_assert_str_eq(p.entries[5].text, "reject 10.0.0.0/8:*");
	cr_assert_eq(p.entries[6].protos, POLICY_PROTOS_ALL);
	/* "*" on a plain line is both families, on accept6 only IPv6. */
	size_t rules_of[7] = { 0 };
	for (size_t i = 0; i < p.n_rules; i++)
		rules_of[p.rules[i].entry]++;
	cr_assert_eq(rules_of[1], 2);
	cr_assert_eq(rules_of[3], 1);
	cr_assert_eq(rules_of[6], 2);
	policy_free(&p);
}

Test(policy, empty_policy_rejects_everything)
{
	struct policy p = parse_ok("# nothing\n\n   \n");
	cr_assert_eq(p.n_entries, 0);
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct policy_verdict v = decide(&p, &c, "8.8.8.8", POLICY_PROTO_TCP, 80);
	cr_assert(!v.accept);
	cr_assert_eq(v.entry, POLICY_NO_ENTRY);
	v = decide(&p, &c, "2001:db8::1", POLICY_PROTO_OTHER, 0);
	cr_assert_eq(v.entry, POLICY_NO_ENTRY);
	policy_compiled_free(&c);
	policy_free(&p);
}

struct bad_case {
	const char *text;
	uint32_t line, column;
	const char *message_part;
};

Test(policy, errors_name_line_column_and_expectation)
{
	static const struct bad_case cases[] = {
		{ "ExitPolicy allow *:80\n", 1, 12, "expected accept, reject" },
		{ "\n\nExitPolicy accept *:80\nExitPolicy accept *:\n", 4, 21, "expected a port" },
		{ "ExitPolicy accept *:0\n", 1, 21, "port 0" },
		{ "ExitPolicy accept *:70000\n", 1, 21, "expected a port 1-65535" },
		{ "ExitPolicy accept *:90-80\n", 1, 21, "reversed" },
		{ "ExitPolicy accept 1.2.3.4\n", 1, 26, "expected ':'" },
		{ "ExitPolicy accept 1.2.3:80\n", 1, 19, "expected an address" },
		{ "ExitPolicy accept 01.2.3.4:80\n", 1, 19, "expected an address" },
		{ "ExitPolicy accept 2001:db8::1:80\n", 1, 19, "brackets" },
		{ "ExitPolicy accept [2001:db8::1:80\n", 1, 19, "expected ']'" },
		{ "ExitPolicy accept [2001:zz8::1]:80\n", 1, 20, "not an IPv6 address" },
		{ "ExitPolicy accept 10.0.0.1/8:*\n", 1, 19, "bits set beyond its /8 mask" },
		{ "ExitPolicy accept 10.0.0.0/33:*\n", 1, 28, "mask length" },
		{ "ExitPolicy accept 10.0.0.0/255.0.255.0:*\n", 1, 28, "not contiguous" },
		{ "ExitPolicy accept [::]/129:*\n", 1, 24, "mask length" },
		{ "ExitPolicy accept6 1.2.3.4:80\n", 1, 20, "IPv4 address on an accept6 line" },
		{ "ExitPolicy reject6 *4:*\n", 1, 20, "IPv4 address" },
		{ "ExitPolicy accept *:80 sctp\n", 1, 24, "expected tcp, udp, icmp, limit" },
		{ "ExitPolicy accept *:80 tcp udp\n", 1, 28, "one protocol word" },
		{ "ExitPolicy accept *:80 icmp\n", 1, 24, "'icmp' has no ports" },
		{ "ExitPolicy reject *:465 limit 1/second\n", 1, 25, "accept entries only" },
		{ "ExitPolicy accept *:465 limit 30/fortnight\n", 1, 34, "expected a unit" },
		{ "ExitPolicy accept *:465 limit 30\n", 1, 33, "expected '/'" },
		{ "ExitPolicy accept *:465 limit 0/minute\n", 1, 31, "at least 1" },
		{ "ExitPolicy accept *:465 limit 3/minute burst\n", 1, 45, "after 'burst'" },
		{ "ExitPolicy accept *:80,\n", 1, 24, "another entry" },
		{ "ExitPolicy accept *:80 ; reject *:*\n", 1, 24, "expected tcp, udp" },
		{ "ExitPolicy\n", 1, 11, "after ExitPolicy" },
		{ "ExitPolicy accept\n", 1, 18, "expected an address pattern" },
		{ "ExitPolicy accept */8:*\n", 1, 20, "takes no mask" },
		{ "ExitPolicy accept *:8\x01" "0\n", 1, 22, "control character" },
		{ "ExitPolicy accept \xc3\xa9:80\n", 1, 19, "non-ASCII" },
		{ "accept *:80\naccept *:80\0\n", 2, 12, "control character" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *bc = &cases[i];
		size_t len = strlen(bc->text);
		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			len = 25; /* the embedded NUL */
		struct policy p;
		struct policy_error err;
		int rc = policy_parse(bc->text, len, &p, &err);
		cr_assert_eq(rc, -EINVAL, "case %zu parsed", i);
		cr_expect_eq(err.line, bc->line, "case %zu: line %u, want %u (%s)", i, err.line, bc->line,
			     err.message);
		cr_expect_eq(err.column, bc->column, "case %zu: column %u, want %u (%s)", i, err.column,
			     bc->column, err.message);
		cr_expect(strstr(err.message, bc->message_part) != NULL, "case %zu: message '%s' lacks '%s'",
			  i, err.message, bc->message_part);
	}
}

Test(policy, first_match_wins)
{
	struct policy p = parse_ok("accept 198.51.100.7:22\n"
				   "reject 198.51.100.0/24:*\n"
				   "accept *:22\n"
				   "accept *:80\n"
				   "reject *:80\n" /* shadowed */
				   "reject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct policy_verdict v = decide(&p, &c, "198.51.100.7", POLICY_PROTO_TCP, 22);
	cr_assert(v.accept);
	cr_assert_eq(p.entries[v.entry].line, 1);
	v = decide(&p, &c, "198.51.100.8", POLICY_PROTO_TCP, 22);
	cr_assert(!v.accept);
	cr_assert_eq(p.entries[v.entry].line, 2);
	v = decide(&p, &c, "198.51.101.8", POLICY_PROTO_TCP, 22);
	cr_assert(v.accept);
	cr_assert_eq(p.entries[v.entry].line, 3);
	v = decide(&p, &c, "203.0.113.1", POLICY_PROTO_UDP, 80);
	cr_assert(v.accept);
	cr_assert_eq(p.entries[v.entry].line, 4);
	v = decide(&p, &c, "203.0.113.1", POLICY_PROTO_TCP, 81);
	cr_assert(!v.accept);
	cr_assert_eq(p.entries[v.entry].line, 6);
	/* A rejected network stays rejected on allowed ports. */
	v = decide(&p, &c, "198.51.100.200", POLICY_PROTO_TCP, 80);
	cr_assert(!v.accept);
	cr_assert_eq(p.entries[v.entry].line, 2);
	policy_compiled_free(&c);
	policy_free(&p);
}

Test(policy, ranges_and_edges)
{
	struct policy p = parse_ok("accept *:1000-2000\naccept *:65535\nreject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	cr_assert(!decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 999).accept);
	cr_assert(decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 1000).accept);
	cr_assert(decide(&p, &c, "192.0.2.1", POLICY_PROTO_UDP, 1500).accept);
	cr_assert(decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 2000).accept);
	cr_assert(!decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 2001).accept);
	cr_assert(decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 65535).accept);
	cr_assert(!decide(&p, &c, "192.0.2.1", POLICY_PROTO_TCP, 0).accept);
	cr_assert(!decide(&p, &c, "0.0.0.0", POLICY_PROTO_TCP, 1).accept);
	cr_assert(decide(&p, &c, "255.255.255.255", POLICY_PROTO_TCP, 1000).accept);
	cr_assert(decide(&p, &c, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", POLICY_PROTO_TCP, 1000).accept);
	cr_assert(decide(&p, &c, "::", POLICY_PROTO_UDP, 65535).accept);
	/* Ports say nothing about ICMP or other protocols: only the final "*:*" covers them. */
	struct policy_verdict v = decide(&p, &c, "192.0.2.1", POLICY_PROTO_ICMP, 0);
	cr_assert(!v.accept);
	cr_assert_eq(v.entry, 2);
	cr_assert_eq(c.n_groups, 1);
	cr_assert_eq(c.n_v4, 1);
	cr_assert_eq(c.n_v6, 1);
	policy_compiled_free(&c);
	policy_free(&p);
}

Test(policy, ipv6_and_six_actions)
{
	struct policy p = parse_ok("reject6 [2001:db8::]/32:*\n"
				   "accept6 *:443\n"
				   "accept [2001:db8:1::1]:80\n" /* shadowed by line 1 */
				   "accept *4:80\n"
				   "accept *6:8080\n"
				   "reject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct policy_verdict v = decide(&p, &c, "2001:db8:1::1", POLICY_PROTO_TCP, 80);
	cr_assert(!v.accept);
	cr_assert_eq(p.entries[v.entry].line, 1);
	v = decide(&p, &c, "2001:db9::1", POLICY_PROTO_TCP, 443);
	cr_assert(v.accept);
	cr_assert_eq(p.entries[v.entry].line, 2);
	/* accept6 does not apply to IPv4. */
	v = decide(&p, &c, "203.0.113.9", POLICY_PROTO_TCP, 443);
	cr_assert(!v.accept);
	cr_assert_eq(p.entries[v.entry].line, 6);
	cr_assert(decide(&p, &c, "203.0.113.9", POLICY_PROTO_TCP, 80).accept);
	cr_assert(!decide(&p, &c, "2001:db9::1", POLICY_PROTO_TCP, 80).accept);
	cr_assert(decide(&p, &c, "2001:db9::1", POLICY_PROTO_UDP, 8080).accept);
	cr_assert(!decide(&p, &c, "203.0.113.9", POLICY_PROTO_UDP, 8080).accept);
	policy_compiled_free(&c);
	policy_free(&p);
}

Test(policy, protocols_icmp_and_private)
{
	struct policy p = parse_ok("reject private:*\n"
				   "accept *:53 udp\n"
				   "accept *:* icmp\n"
				   "accept *:25 tcp\n"
				   "reject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	cr_assert(decide(&p, &c, "9.9.9.9", POLICY_PROTO_UDP, 53).accept);
	cr_assert(!decide(&p, &c, "9.9.9.9", POLICY_PROTO_TCP, 53).accept);
	cr_assert(decide(&p, &c, "9.9.9.9", POLICY_PROTO_TCP, 25).accept);
	cr_assert(!decide(&p, &c, "9.9.9.9", POLICY_PROTO_UDP, 25).accept);
	cr_assert(decide(&p, &c, "9.9.9.9", POLICY_PROTO_ICMP, 0).accept);
	cr_assert(decide(&p, &c, "2620:fe::fe", POLICY_PROTO_ICMP, 0).accept);
	cr_assert(!decide(&p, &c, "9.9.9.9", POLICY_PROTO_OTHER, 0).accept);
	const char *priv[] = { "10.1.2.3", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.169.254",
			       "0.1.2.3", "fc00::1", "fd12::1", "fe80::1", "::1", "ff02::1" };
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		struct policy_verdict v = decide(&p, &c, priv[i], POLICY_PROTO_UDP, 53);
		cr_assert(!v.accept, "%s reachable", priv[i]);
		cr_assert_eq(v.entry, 0);
		v = decide(&p, &c, priv[i], POLICY_PROTO_ICMP, 0);
		cr_assert_eq(v.entry, 0, "%s ping not decided by the private line", priv[i]);
	}
	cr_assert(decide(&p, &c, "172.32.0.1", POLICY_PROTO_UDP, 53).accept);
	cr_assert(decide(&p, &c, "11.0.0.0", POLICY_PROTO_UDP, 53).accept);
	policy_compiled_free(&c);
	policy_free(&p);
}

/* The compiled form for a small policy, range by range. */
Test(policy, compiler_output)
{
	struct policy p = parse_ok("reject 198.51.100.0/24:*\n"
				   "accept *:53\n"
				   "accept *:80-81\n"
				   "reject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	/* IPv4: below the network, the network, above it; the outer two share the group. */
	cr_assert_eq(c.n_v4, 3);
	cr_assert_eq(c.v4[0].lo, 0);
	cr_assert_eq(c.v4[0].hi, 0xc63363ff);
	cr_assert_eq(c.v4[1].lo, 0xc6336400);
	cr_assert_eq(c.v4[1].hi, 0xc63364ff);
	cr_assert_eq(c.v4[2].lo, 0xc6336500);
	cr_assert_eq(c.v4[2].hi, 0xffffffff);
	cr_assert_eq(c.v4[0].group, c.v4[2].group);
	cr_assert_neq(c.v4[0].group, c.v4[1].group);
	cr_assert_eq(c.n_v6, 1);
	cr_assert_eq(c.v6[0].group, c.v4[0].group);
	cr_assert_eq(c.n_groups, 2);

	uint32_t e;
	cr_assert(policy_group_uniform(&c, &c.groups[c.v4[1].group], &e));
	cr_assert_eq(e, 0);
	const struct policy_group *g = &c.groups[c.v4[0].group];
	cr_assert(!policy_group_uniform(&c, g, &e));
	for (int slot = 0; slot < 2; slot++) {
		const struct policy_port_range *r = c.ports + g->ports_off[slot];
		cr_assert_eq(g->ports_len[slot], 5);
		cr_assert_eq(r[0].lo, 0);
		cr_assert_eq(r[0].hi, 52);
		cr_assert_eq(r[0].entry, 3);
		cr_assert_eq(r[1].lo, 53);
		cr_assert_eq(r[1].hi, 53);
		cr_assert_eq(r[1].entry, 1);
		cr_assert_eq(r[2].lo, 54);
		cr_assert_eq(r[2].hi, 79);
		cr_assert_eq(r[2].entry, 3);
		cr_assert_eq(r[3].lo, 80);
		cr_assert_eq(r[3].hi, 81);
		cr_assert_eq(r[3].entry, 2);
		cr_assert_eq(r[4].lo, 82);
		cr_assert_eq(r[4].hi, 65535);
		cr_assert_eq(r[4].entry, 3);
	}
	cr_assert_eq(g->icmp_entry, 3);
	cr_assert_eq(g->other_entry, 3);
	policy_compiled_free(&c);
	policy_free(&p);
}

/* A policy without a final "*:*" leaves gaps: they compile to the implicit reject. */
Test(policy, gaps_are_implicit_rejects)
{
	struct policy p = parse_ok("accept 203.0.113.0/24:443\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	cr_assert(decide(&p, &c, "203.0.113.5", POLICY_PROTO_TCP, 443).accept);
	struct policy_verdict v = decide(&p, &c, "203.0.113.5", POLICY_PROTO_TCP, 444);
	cr_assert_eq(v.entry, POLICY_NO_ENTRY);
	v = decide(&p, &c, "203.0.114.5", POLICY_PROTO_TCP, 443);
	cr_assert_eq(v.entry, POLICY_NO_ENTRY);
	policy_compiled_free(&c);
	policy_free(&p);
}

/* Random policies over a small universe of networks and ports, where boundaries collide
 * often: the compiled lookup must agree with the reference matcher everywhere it is asked. */
static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

Test(policy, compiled_equals_reference_on_random_policies)
{
	static const char *nets[] = { "*", "*4", "*6", "private", "10.0.0.0/8", "10.1.0.0/16",
				      "10.1.2.0/24", "10.1.2.3", "192.0.2.0/24", "0.0.0.0/1",
				      "128.0.0.0/1", "255.255.255.255", "[2001:db8::]/32",
				      "[2001:db8::1]", "[::]/1", "[8000::]/1", "[fc00::]/7" };
	static const char *ports[] = { "*", "1", "53", "80", "80-81", "1-1024", "1000-2000",
				       "65535", "60000-65535", "443", "1-65535" };
	static const char *opts[] = { "", "", "", " tcp", " udp", " limit 5/second" };
	static const char *probes[] = { "0.0.0.0", "9.255.255.255", "10.0.0.0", "10.1.1.255",
					"10.1.2.3", "10.1.2.4", "10.255.255.255", "127.0.0.1",
					"192.0.2.0", "192.0.2.255", "127.255.255.255", "128.0.0.0",
					"255.255.255.255", "::", "2001:db8::", "2001:db8::1",
					"2001:db8::2", "2001:db9::", "7fff::", "8000::", "fc00::",
					"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::",
					"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	static const uint16_t probe_ports[] = { 0, 1, 2, 52, 53, 54, 79, 80, 81, 82, 443, 999,
						1000, 1024, 1025, 2000, 2001, 59999, 60000, 65534, 65535 };
	for (int round = 0; round < 300; round++) {
		char text[8192];
		size_t off = 0;
		int n = 1 + (int)rnd(14);
		for (int i = 0; i < n; i++) {
			const char *net = nets[rnd(sizeof(nets) / sizeof(nets[0]))];
			const char *port = ports[rnd(sizeof(ports) / sizeof(ports[0]))];
			bool accept = rnd(2);
			const char *opt = accept ? opts[rnd(sizeof(opts) / sizeof(opts[0]))] : opts[rnd(5)];
			if (rnd(6) == 0 && strcmp(port, "*") == 0)
				opt = " icmp";
			bool v6line = net[0] == '[' || strcmp(net, "*6") == 0 || (net[0] == '*' && !net[1] && rnd(3) == 0);
			off += (size_t)snprintf(text + off, sizeof(text) - off, "ExitPolicy %s%s %s:%s%s\n",
						accept ? "accept" : "reject", v6line ? "6" : "", net, port, opt);
		}
		struct policy p = parse_ok(text);
		struct policy_compiled c;
		cr_assert_eq(policy_compile(&p, &c), 0);
		for (size_t a = 0; a < sizeof(probes) / sizeof(probes[0]); a++) {
			for (int proto = 0; proto < POLICY_PROTO_COUNT; proto++)
				for (size_t k = 0; k < sizeof(probe_ports) / sizeof(probe_ports[0]); k++)
					decide(&p, &c, probes[a], (enum policy_proto)proto, probe_ports[k]);
			/* The compiled open ranges (the IP packet router's and nym-ntm's answer) say
			 * what the linear reference says. */
			struct policy_addr pa = addr(probes[a]);
			cr_assert_eq(policy_network_rejected(&p, &pa), policy_compiled_network_rejected(&c, &pa),
				     "%s in\n%s", probes[a], text);
		}
		/* Ranges are disjoint, sorted and cover the space; neighbours differ. */
		cr_assert_eq(c.v4[0].lo, 0);
		cr_assert_eq(c.v4[c.n_v4 - 1].hi, 0xffffffff);
		for (size_t i = 1; i < c.n_v4; i++) {
			cr_assert_eq(c.v4[i].lo, c.v4[i - 1].hi + 1);
			cr_assert_neq(c.v4[i].group, c.v4[i - 1].group);
		}
		for (size_t gi = 0; gi < c.n_groups; gi++)
			for (int slot = 0; slot < 2; slot++) {
				const struct policy_port_range *r = c.ports + c.groups[gi].ports_off[slot];
				size_t len = c.groups[gi].ports_len[slot];
				cr_assert_eq(r[0].lo, 0);
				cr_assert_eq(r[len - 1].hi, 65535);
				for (size_t i = 1; i < len; i++)
					cr_assert_eq(r[i].lo, r[i - 1].hi + 1);
			}
		policy_compiled_free(&c);
		policy_free(&p);
	}
}

/* DNS and ping pass to every address the policy does not reject by network (PROTOCOLS.md
 * 4.1): a reject of every port before any accept. */
Test(policy, dns_and_ping_exemption)
{
	struct policy p = parse_ok("reject 192.0.2.0/24:*\n"
				   "accept 198.51.100.7:80\n"
				   "reject 198.51.100.0/24:*\n"
				   "reject 203.0.113.0/24:1-65535\n"
				   "reject 10.0.0.0/8:1-1000\n"
				   "reject 10.0.0.0/8:1001-65535\n"
				   "reject 172.16.0.0/12:* tcp\n"
				   "reject6 [2001:db8:bad::]/48:*\n"
				   "accept *:443\n"
				   "reject *:*\n");
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);
	static const struct {
		const char *dst;
		bool rejected;
	} cases[] = {
		{ "192.0.2.1", true },	     /* a reject of every port first */
		{ "198.51.100.7", false },   /* an accept (of port 80 only) comes first */
		{ "198.51.100.8", true },
		{ "203.0.113.9", true },     /* 1-65535 counts as every port */
		{ "10.1.2.3", false },	     /* every port, but by two entries: not by network */
		{ "172.16.0.1", false },     /* TCP only */
		{ "2001:db8:bad::1", true },
		{ "2001:db8:bad:1::1", true },
		{ "2001:db8:bae::1", false },
		{ "8.8.8.8", false },	     /* accept *:443 comes before reject *:* */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_addr a = addr(cases[i].dst);
		cr_assert_eq(policy_network_rejected(&p, &a), cases[i].rejected, "%s", cases[i].dst);
		cr_assert_eq(policy_compiled_network_rejected(&c, &a), cases[i].rejected, "%s (compiled)", cases[i].dst);
		struct policy_verdict v;
		bool exempt;
		for (int proto = 0; proto < 2; proto++) {
			policy_compiled_decide(&c, &a, (enum policy_proto)proto, 53, &v, &exempt);
			cr_assert_eq(v.accept, !cases[i].rejected, "%s:53/%d", cases[i].dst, proto);
			cr_assert_eq(exempt, !cases[i].rejected, "%s:53 exempt", cases[i].dst);
			policy_compiled_decide(&c, &a, (enum policy_proto)proto, 54, &v, &exempt);
			cr_assert(!exempt);
		}
		policy_compiled_decide(&c, &a, POLICY_PROTO_ICMP, 0, &v, &exempt);
		cr_assert_eq(v.accept, !cases[i].rejected, "%s ping", cases[i].dst);
		policy_compiled_decide(&c, &a, POLICY_PROTO_OTHER, 0, &v, &exempt);
		cr_assert(!v.accept && !exempt);
		/* The policy's own answer is unchanged: 443 is accepted, the rest follows the file. */
		policy_compiled_decide(&c, &a, POLICY_PROTO_TCP, 443, &v, &exempt);
		cr_assert(!exempt);
	}
	/* Spans: sorted, disjoint, merged. */
	for (size_t i = 1; i < c.n_open_v4; i++)
		cr_assert_gt(c.open_v4[i].lo, c.open_v4[i - 1].hi + 1);
	policy_compiled_free(&c);
	policy_free(&p);

	/* An empty policy rejects everything: the implicit end rejects every port. */
	p = parse_ok("# nothing\n");
	cr_assert_eq(policy_compile(&p, &c), 0);
	struct policy_addr a = addr("8.8.8.8");
	cr_assert(policy_compiled_network_rejected(&c, &a));
	cr_assert(policy_network_rejected(&p, &a));
	policy_compiled_free(&c);
	policy_free(&p);
	/* Only partial rejects before the end: still the end decides. */
	p = parse_ok("reject *:1-1000\naccept 192.0.2.0/24:443\n");
	cr_assert_eq(policy_compile(&p, &c), 0);
	a = addr("8.8.8.8");
	cr_assert(policy_compiled_network_rejected(&c, &a));
	a = addr("192.0.2.9");
	cr_assert(!policy_compiled_network_rejected(&c, &a));
	policy_compiled_free(&c);
	policy_free(&p);
}

/* Nym's policy as shipped in packaging/. */
Test(policy, default_policy_file)
{
	size_t len;
	char *text = read_file("packaging/exit-policy.txt", &len);
	struct policy p;
	struct policy_error err;
	cr_assert_eq(policy_parse(text, len, &p, &err), 0, "%u:%u: %s", err.line, err.column, err.message);
	struct policy_compiled c;
	cr_assert_eq(policy_compile(&p, &c), 0);

	/* Every port of Nym's allowlist (nym-facts.md section 3.3), TCP and UDP, v4 and v6,
	 * including 3333 and 6012 that Nym's script loses. */
	static const char *allow =
		"20-21 22 43 53 79 80-81 88 110 119 123 143 220 223 389 443 445 464 554 563 587 636 706 "
		"749 853 873 902-904 981 989-990 991 992 993 995 1119-1120 1194 1220 1293 1433 1500 1521 "
		"1533 1677 1723 1755 1863 2049 2053 2082-2083 2086-2087 2095-2096 2102-2104 2222 2703 "
		"3022-3025 3074 3306 3478-3480 3478-3484 3690 3724 4000 4321 4379-4380 4444 4643 5000-5005 "
		"5050 5060-5062 5190 5222-5223 5228 5432 6112-6120 6250 6300 8080 8082 8085 8087-8088 "
		"8232-8233 8332-8333 8443 8767 8883 8888 9001 9030 9053 9333 9339 9418 9443 9735 9987 9999 "
		"10000 10011-10080 10443 11371 14444 18080-18081 18089 19294-19344 19638 22021 25551 25565 "
		"26661 27000-27050 41144 50000-65535 51820-51822 51830 60000-61000 64738 3333 6012";
	bool open_port[65536] = { false };
	char *copy = strdup(allow), *save = NULL;
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		unsigned lo, hi;
		if (sscanf(tok, "%u-%u", &lo, &hi) != 2)
			hi = lo = (unsigned)atoi(tok);
		for (unsigned port = lo; port <= hi; port++) {
			open_port[port] = true;
			for (int proto = 0; proto < 2; proto++) {
				cr_assert(decide(&p, &c, "203.0.113.10", (enum policy_proto)proto, (uint16_t)port).accept,
					  "port %u/%d closed", port, proto);
				cr_assert(decide(&p, &c, "2001:db8::10", (enum policy_proto)proto, (uint16_t)port).accept);
			}
		}
	}
	free(copy);
	/* Nothing else is open (465 over TCP is, with its limit). */
	for (unsigned port = 0; port < 65536; port++) {
		if (open_port[port])
			continue;
		struct policy_verdict v = decide(&p, &c, "203.0.113.10", POLICY_PROTO_UDP, (uint16_t)port);
		cr_assert(!v.accept, "udp port %u open", port);
		v = decide(&p, &c, "203.0.113.10", POLICY_PROTO_TCP, (uint16_t)port);
		cr_assert_eq(v.accept, port == 465, "tcp port %u", port);
		if (port == 465)
			cr_assert_eq(p.entries[v.entry].limit.rate, 30);
		else
			cr_assert_str_eq(p.entries[v.entry].text, "reject *:*");
	}
	/* DNS and ping everywhere but on rejected networks; those are closed on every port. */
	cr_assert(decide(&p, &c, "198.51.100.1", POLICY_PROTO_ICMP, 0).accept);
	cr_assert(decide(&p, &c, "2001:db8::1", POLICY_PROTO_ICMP, 0).accept);
	cr_assert(!decide(&p, &c, "198.51.100.1", POLICY_PROTO_OTHER, 0).accept);
	const char *rejected[] = { "5.188.10.0", "5.188.11.255", "31.132.39.1", "37.9.42.200", "45.43.191.255",
				   "169.254.169.254", "10.0.0.1" };
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		cr_assert(!decide(&p, &c, rejected[i], POLICY_PROTO_TCP, 443).accept, "%s", rejected[i]);
		cr_assert(!decide(&p, &c, rejected[i], POLICY_PROTO_UDP, 53).accept, "%s", rejected[i]);
		cr_assert(!decide(&p, &c, rejected[i], POLICY_PROTO_ICMP, 0).accept, "%s", rejected[i]);
	}
	cr_assert(decide(&p, &c, "5.188.12.0", POLICY_PROTO_TCP, 443).accept);
	cr_assert(decide(&p, &c, "5.188.9.255", POLICY_PROTO_TCP, 443).accept);

	/* One group for the open internet, one per rejected block, and no entry is dead code. */
	bool used[512] = { false };
	cr_assert(p.n_entries < 512);
	for (size_t i = 0; i < c.n_ports; i++)
		if (c.ports[i].entry != POLICY_NO_ENTRY)
			used[c.ports[i].entry] = true;
	for (size_t g = 0; g < c.n_groups; g++) {
		used[c.groups[g].icmp_entry < 512 ? c.groups[g].icmp_entry : 0] = true;
		used[c.groups[g].other_entry < 512 ? c.groups[g].other_entry : 0] = true;
	}
	for (size_t i = 0; i < p.n_entries; i++)
		cr_expect(used[i], "entry '%s' at line %u never decides anything", p.entries[i].text,
			  p.entries[i].line);
	cr_assert_eq(c.n_groups, 6, "groups: %zu", c.n_groups);
	policy_compiled_free(&c);
	policy_free(&p);
	free(text);
}
