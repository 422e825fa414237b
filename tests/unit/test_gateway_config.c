/* The node host configuration: the shipped example equals the defaults, every value is
 * checked, and errors carry the line, column and what was expected. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/gateway_config.h"

static int parse(struct gateway_config *cfg, const char *text, struct gateway_config_error *err)
{
	gateway_config_defaults(cfg, "/etc/nym/exit-policy.txt");
	return gateway_config_parse(cfg, text, strlen(text), err);
}

Test(gateway_config, packaged_example_lists_the_defaults)
{
	FILE *f = fopen("packaging/ntm.yaml", "rb");
	cr_assert_not_null(f);
	static char text[16384];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	static struct gateway_config want, got;
	struct gateway_config_error err;
	gateway_config_defaults(&want, "/etc/nym/exit-policy.txt");
	cr_assert_eq(parse(&got, text, &err), 0, "%u:%u: %s", err.line, err.column, err.message);
	cr_assert_eq(memcmp(&want, &got, sizeof(want)), 0, "packaging/ntm.yaml differs from the defaults");
	cr_assert_eq(got.mode, NFT_GATEWAY_EXIT);
	cr_assert_eq(got.n_tunnels, 2);
	cr_assert_str_eq(got.tunnels[1].ifname, "nymwg");
	cr_assert_eq(got.tunnels[1].v4[1], 1);
	cr_assert_eq(got.tunnels[1].v6_prefix, 112);
	cr_assert_eq(got.wireguard_tcp.port[0], 51830);
}

Test(gateway_config, values)
{
	static struct gateway_config c;
	struct gateway_config_error err;
	const char *text = "mode: entry-gateway\n"
			   "uplink: eth1\n"
			   "uplink_v6: none\n"
			   "ssh_port: 2222\n"
			   "host_firewall: false\n"
			   "flow_offload: false\n"
			   "tunnels:\n"
			   "  wg0: {ipv4: 10.9.0.0/24}\n"
			   "ports: {tcp: [1789], udp: []}\n"
			   "entry_gateway:\n"
			   "  gateways: [203.0.113.20, \"2001:db8::/64\"]\n"
			   "  ports: [51822/udp, 41264/tcp]\n";
	cr_assert_eq(parse(&c, text, &err), 0, "%u:%u: %s", err.line, err.column, err.message);
	cr_assert_eq(c.mode, NFT_GATEWAY_ENTRY);
	cr_assert_str_eq(c.uplink_v4, "eth1");
	cr_assert_str_eq(c.uplink_v6, "none");
	cr_assert_eq(c.ssh_port, 2222);
	cr_assert(!c.host_firewall);
	cr_assert(!c.flow_offload);
	cr_assert_eq(c.n_tunnels, 1);
	cr_assert(c.tunnels[0].has_v4 && !c.tunnels[0].has_v6);
	cr_assert_eq(c.tunnels[0].v4_prefix, 24);
	cr_assert_eq(c.tcp.n, 1);
	cr_assert_eq(c.udp.n, 0);
	cr_assert_eq(c.gateway_udp.n, 2, "untouched keys keep their defaults");
	cr_assert_eq(c.n_entry_gateways, 2);
	cr_assert_eq(c.entry_gateways[1].family, 6);
	cr_assert_eq(c.entry_gateways[1].prefix, 64);
	cr_assert_eq(c.n_entry_ports, 2);
	cr_assert(c.entry_ports[0].udp && c.entry_ports[0].port == 51822);
	cr_assert(!c.entry_ports[1].udp);
}

struct bad_case {
	const char *text;
	uint32_t line, column;
	const char *part;
};

Test(gateway_config, errors_name_position_and_expectation)
{
	static const struct bad_case cases[] = {
		{ "mode: exit-gateway\nuplnk: eth0\n", 2, 1, "unknown key 'uplnk'" },
		{ "mode: exit-gateway\nmode: mixnode\n", 2, 1, "given twice" },
		{ "mode: exit\n", 1, 7, "expected mixnode, entry-gateway or exit-gateway, got 'exit'" },
		{ "ssh_port: 0\n", 1, 11, "expected a port number 1-65535, got '0'" },
		{ "ssh_port: 22x\n", 1, 11, "expected a port number" },
		{ "ssh_port: [22]\n", 1, 11, "ssh_port: expected a port number" },
		{ "uplink: \"eth 0\"\n", 1, 9, "expected an interface name" },
		{ "uplink_v4: averyveryverylongname\n", 1, 12, "1-15 characters" },
		{ "host_firewall: maybe\n", 1, 16, "expected true or false" },
		{ "tunnels:\n  nymwg: {ipv4: 10.1.0.1/16}\n", 2, 17, "expected an IPv4 subnet" },
		{ "tunnels:\n  nymwg: {ipv6: 10.1.0.0/16}\n", 2, 17, "expected an IPv6 subnet" },
		{ "tunnels:\n  nymwg: {ipv4: 10.1.0.0/16, mtu: 1420}\n", 2, 30, "unknown key 'mtu' in tunnels.nymwg" },
		{ "tunnels:\n  nymwg: {}\n", 2, 10, "expected ipv4 and/or ipv6" },
		{ "tunnels: {}\n", 1, 10, "at least one interface" },
		{ "tunnels: [nymwg]\n", 1, 10, "expected a mapping of interface names" },
		{ "ports:\n  tcp: 80\n", 2, 8, "expected a list of port numbers" },
		{ "ports:\n  tcp: [80, 99999]\n", 2, 13, "got '99999'" },
		{ "ports:\n  sctp: [80]\n", 2, 3, "unknown key 'sctp' in ports" },
		{ "entry_gateway:\n  gateways: [203.0.113.300]\n", 2, 14, "expected an IPv4 or IPv6 address" },
		{ "entry_gateway:\n  ports: [51822]\n", 2, 11, "expected PORT/udp or PORT/tcp, got '51822'" },
		{ "entry_gateway:\n  ports: [51822/sctp]\n", 2, 11, "PORT/udp or PORT/tcp" },
		{ "mode: [exit-gateway\n", 2, 1, "" },
		{ "- a\n- b\n", 1, 1, "expected a mapping of settings" },
		{ "mode: exit-gateway\n\tuplink: eth0\n", 2, 1, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct gateway_config c;
		struct gateway_config_error err;
		int rc = parse(&c, cases[i].text, &err);
		cr_assert_eq(rc, -EINVAL, "case %zu parsed", i);
		cr_expect_eq(err.line, cases[i].line, "case %zu: line %u, want %u (%s)", i, err.line, cases[i].line,
			     err.message);
		cr_expect_eq(err.column, cases[i].column, "case %zu: column %u, want %u (%s)", i, err.column,
			     cases[i].column, err.message);
		cr_expect(strstr(err.message, cases[i].part) != NULL, "case %zu: '%s' lacks '%s'", i, err.message,
			  cases[i].part);
	}
}

Test(gateway_config, failed_parse_leaves_config_alone)
{
	static struct gateway_config before, c;
	struct gateway_config_error err;
	gateway_config_defaults(&before, "p");
	gateway_config_defaults(&c, "p");
	const char *text = "mode: mixnode\nssh_port: 0\n";
	cr_assert_eq(gateway_config_parse(&c, text, strlen(text), &err), -EINVAL);
	cr_assert_eq(memcmp(&before, &c, sizeof(c)), 0);
}
