/* The client kill switch: the table nft_killswitch_build describes (rule order, IPv6 off,
 * LAN allowed or blocked, before the tunnel exists), and the real thing in a private network
 * namespace: installed through libnftnl, listed by nft(8) exactly as nft lists the same text
 * loaded by itself, packets refused (sendto -> EPERM) or let through as the policy says, and
 * removed again. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../support/privnet.h"
#include "../support/tmpdir.h"
#include "io/tun.h"
#include "nft/nft_dump.h"
#include "nft/nft_encode.h"
#include "nft/nft_killswitch.h"
#include "nft/nft_ruleset.h"

static char *print(const struct nft_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(nft_ruleset_print(rs, f), 0);
	fclose(f);
	return buf;
}

static struct nft_killswitch_endpoint endpoint_v4(const char *a, uint16_t port, uint8_t proto)
{
	struct nft_killswitch_endpoint e = { .family = AF_INET, .port = port, .proto = proto };
	cr_assert_eq(inet_pton(AF_INET, a, e.addr), 1);
	return e;
}

static struct nft_killswitch_endpoint endpoint_v6(const char *a, uint16_t port, uint8_t proto)
{
	struct nft_killswitch_endpoint e = { .family = AF_INET6, .port = port, .proto = proto };
	cr_assert_eq(inet_pton(AF_INET6, a, e.addr), 1);
	return e;
}

static struct nft_killswitch_endpoint eps[2];
static struct nft_killswitch_net lan_extra[2];

static struct nft_killswitch_policy policy(void)
{
	eps[0] = endpoint_v4("203.0.113.7", 51820, IPPROTO_UDP);
	eps[1] = endpoint_v6("2001:db8::7", 443, IPPROTO_TCP);
	memset(lan_extra, 0, sizeof(lan_extra));
	lan_extra[0].family = AF_INET; /* inside 192.168/16: not a second element */
	inet_pton(AF_INET, "192.168.50.0", lan_extra[0].addr);
	lan_extra[0].prefix = 24;
	lan_extra[1].family = AF_INET;
	inet_pton(AF_INET, "198.18.0.0", lan_extra[1].addr);
	lan_extra[1].prefix = 15;
	struct nft_killswitch_policy p = {
		.table = "nym-vpn",
		.tunnel = "nym0",
		.fwmark = 0x14d,
		.endpoints = eps,
		.n_endpoints = 2,
		.allow_lan = true,
		.lan = lan_extra,
		.n_lan = 2,
		.allow_ipv6 = true,
	};
	return p;
}

/* Text of chain `name` in the printed table. */
static char *chain_text(const char *all, const char *name)
{
	char head[80];
	snprintf(head, sizeof(head), "\tchain %s {\n", name);
	const char *s = strstr(all, head);
	cr_assert_not_null(s, "no chain %s in\n%s", name, all);
	const char *e = strstr(s, "\n\t}\n");
	cr_assert_not_null(e);
	return strndup(s, (size_t)(e - s) + 1);
}

Test(nft_killswitch, output_rules_in_order)
{
	struct nft_killswitch_policy p = policy();
	struct nft_ruleset rs;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char *all = print(&rs);
	char *out = chain_text(all, "output");
	const char *want = "\tchain output {\n"
			   "\t\ttype filter hook output priority filter; policy drop;\n"
			   "\t\tcomment \"what may leave this host\"\n"
			   "\t\toifname \"lo\" accept comment \"loopback\"\n"
			   "\t\toifname \"nym0\" accept comment \"the tunnel\"\n"
			   "\t\toifname != \"nym0\" udp dport 53 drop comment \"DNS (UDP) only through the tunnel\"\n"
			   "\t\toifname != \"nym0\" tcp dport 53 drop comment \"DNS (TCP) only through the tunnel\"\n"
			   "\t\tmeta mark 0x0000014d ip daddr 203.0.113.7 udp dport 51820 accept comment \"gateway endpoint, marked sockets only\"\n"
			   "\t\tmeta mark 0x0000014d ip6 daddr 2001:db8::7 tcp dport 443 accept comment \"gateway endpoint, marked sockets only\"\n"
			   "\t\tudp sport 68 udp dport 67 accept comment \"DHCPv4\"\n"
			   "\t\tudp sport 546 udp dport 547 accept comment \"DHCPv6\"\n"
			   "\t\ticmpv6 type @ndp accept comment \"IPv6 neighbour discovery\"\n"
			   "\t\tip daddr @lan_v4 accept comment \"local networks\"\n"
			   "\t\tip6 daddr @lan_v6 accept comment \"local networks (IPv6)\"\n";
	cr_assert_str_eq(out, want);
	free(out);
	char *in = chain_text(all, "input");
	cr_assert(strstr(in, "policy drop;\n\t\tcomment \"what may reach this host\"\n"
			     "\t\tct state established,related accept comment \"replies and related traffic\"\n"
			     "\t\tiifname \"lo\" accept comment \"loopback\"\n"
			     "\t\tiifname \"nym0\" accept comment \"the tunnel\"\n"
			     "\t\tudp sport 67 udp dport 68 accept comment \"DHCPv4\"\n"
			     "\t\tudp sport 547 udp dport 546 accept comment \"DHCPv6\"\n"
			     "\t\ticmpv6 type @ndp accept comment \"IPv6 neighbour discovery\"\n"
			     "\t\tip saddr @lan_v4 accept comment \"local networks\"\n"
			     "\t\tip6 saddr @lan_v6 accept comment \"local networks (IPv6)\"\n"),
		  "%s", in);
	free(in);
	char *fwd = chain_text(all, "forward");
	cr_assert(strstr(fwd, "policy drop;\n\t\tcomment \"only to and from the tunnel\"\n"
			      "\t\tiifname \"nym0\" accept comment \"the tunnel\"\n"
			      "\t\toifname \"nym0\" accept comment \"the tunnel\"\n"),
		  "%s", fwd);
	free(fwd);
	/* Built-in LAN nets plus the extra /15; the /24 inside 192.168/16 adds nothing. */
	cr_assert(strstr(all, "elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, "
			      "224.0.0.0/4, 198.18.0.0/15 }"),
		  "%s", all);
	cr_assert(strstr(all, "elements = { fe80::/10, fc00::/7, ff00::/8 }"), "%s", all);
	cr_assert(strstr(all, "elements = { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, "
			      "nd-redirect }"),
		  "%s", all);
	free(all);
	nft_ruleset_free(&rs);
}

Test(nft_killswitch, ipv6_off_lan_blocked_no_tunnel)
{
	struct nft_killswitch_policy p = policy();
	p.allow_ipv6 = false;
	struct nft_ruleset rs;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char *all = print(&rs);
	cr_assert(strstr(all, "\t\toifname \"nym0\" meta nfproto ipv4 accept comment \"the tunnel (IPv4 only)\"\n"), "%s", all);
	cr_assert(strstr(all, "\t\tiifname \"nym0\" meta nfproto ipv4 accept"), "%s", all);
	cr_assert(strstr(all, "ip daddr @lan_v4 accept"));
	cr_assert_null(strstr(all, "lan_v6"), "no IPv6 LAN with IPv6 off:\n%s", all);
	cr_assert(strstr(all, "icmpv6 type @ndp accept"), "NDP stays");
	cr_assert(strstr(all, "udp sport 546 udp dport 547 accept"), "DHCPv6 stays");
	free(all);
	nft_ruleset_free(&rs);

	p.allow_ipv6 = true;
	p.allow_lan = false;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	all = print(&rs);
	cr_assert_null(strstr(all, "lan_v"), "LAN blocked: no LAN sets or rules:\n%s", all);
	cr_assert_null(nft_find_set(&rs, "lan_v4"));
	free(all);
	nft_ruleset_free(&rs);

	p.tunnel = NULL;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	all = print(&rs);
	cr_assert_null(strstr(all, "nym0"), "no tunnel yet:\n%s", all);
	cr_assert(strstr(all, "\t\tudp dport 53 drop comment"), "DNS dropped everywhere:\n%s", all);
	char *fwd = chain_text(all, "forward");
	cr_assert_null(strstr(fwd, "accept"), "forward drops everything: %s", fwd);
	free(fwd);
	free(all);
	nft_ruleset_free(&rs);
}

Test(nft_killswitch, two_hop_outer_device)
{
	struct nft_killswitch_policy p = policy();
	struct nft_ruleset rs;
	p.tunnel = "nym-wg-exit";
	p.tunnel_outer = "nym-wg-entry";
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char *all = print(&rs);
	char *out = chain_text(all, "output"), *in = chain_text(all, "input"), *fwd = chain_text(all, "forward");
	cr_assert(strstr(out, "\t\toifname \"nym-wg-exit\" accept comment \"the tunnel\"\n"
			      "\t\toifname \"nym-wg-entry\" accept comment \"the outer tunnel\"\n"
			      "\t\toifname != \"nym-wg-exit\" udp dport 53 drop"),
		  "%s", out);
	cr_assert(strstr(in, "\t\tiifname \"nym-wg-entry\" accept comment \"the outer tunnel\"\n"), "%s", in);
	cr_assert_null(strstr(fwd, "nym-wg-entry"), "no forwarding through the outer device: %s", fwd);
	free(out);
	free(in);
	free(fwd);
	free(all);
	nft_ruleset_free(&rs);
	p.tunnel = NULL; /* no outer device without the tunnel */
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	all = print(&rs);
	cr_assert_null(strstr(all, "nym-wg-entry"), "%s", all);
	free(all);
	nft_ruleset_free(&rs);
	p = policy();
	p.tunnel_outer = "a-name-that-is-too-long";
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
}

Test(nft_killswitch, bad_input)
{
	struct nft_killswitch_policy p = policy();
	struct nft_ruleset rs;
	p.tunnel = "a-name-that-is-too-long";
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
	p = policy();
	p.table = NULL;
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
	p = policy();
	eps[0].family = 99;
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
	p = policy();
	eps[0].proto = 0; /* a port without a protocol */
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
	p = policy();
	lan_extra[1].prefix = 33;
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
	/* Any protocol, any port: just the address. */
	p = policy();
	eps[0].proto = 0;
	eps[0].port = 0;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char *all = print(&rs);
	cr_assert(strstr(all, "meta mark 0x0000014d ip daddr 203.0.113.7 accept"), "%s", all);
	free(all);
	nft_ruleset_free(&rs);
}

/* ---- in a private network namespace ---- */

/* Sends one UDP datagram; 0 or -errno (EPERM: dropped by the output hook). */
static int send_udp(const char *addr, uint16_t port, uint32_t mark)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	int family;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		len = sizeof(*s6);
		family = AF_INET6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		len = sizeof(*s4);
		family = AF_INET;
	}
	int fd = socket(family, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	if (mark)
		cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
	int rc = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1 ? 0 : -errno;
	close(fd);
	return rc;
}

/* eth0 (a TUN standing in for the physical link: what is sent queues on its fd) with a LAN
 * /24, a public /24 and IPv6; nym0 a TUN with its own nets. */
static int eth0_fd = -1;

static int setup_net(void)
{
	cr_assert_eq(tun_open("eth0", &eth0_fd), 0);
	test_privnet_sh("ip link set eth0 up && "
			"ip addr add 192.168.50.1/24 dev eth0 && ip addr add 203.0.113.1/24 dev eth0 && "
			"ip -6 addr add 2001:db8::1/64 dev eth0 nodad && "
			"ip route add default via 203.0.113.254 dev eth0");
	int fd;
	cr_assert_eq(tun_open("nym0", &fd), 0);
	test_privnet_sh("ip link set nym0 up && ip addr add 10.9.0.2/24 dev nym0 && "
			"ip -6 addr add fd00:9::2/64 dev nym0 nodad && ip route add 198.51.100.0/24 dev nym0 && "
			"ip -6 route add 2001:db8:99::/64 dev nym0");
	return fd;
}

static void list_table(char *out, size_t cap)
{
	cr_assert_eq(test_privnet_run("nft list table inet nym-vpn", out, cap), 0);
}

static void canon_of_installed(struct nft_canon *c)
{
	struct nft_objects o;
	bool exists;
	cr_assert_eq(nft_dump_table("nym-vpn", &o, &exists), 0);
	cr_assert(exists);
	cr_assert_eq(nft_canon_build(&o, c), 0);
	nft_objects_free(&o);
}

Test(nft_killswitch, kernel_blocks_and_allows)
{
	if (!test_privnet_enter() || access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("needs root (a network namespace and /dev/net/tun)");
	int tun = setup_net();
	cr_assert_eq(send_udp("203.0.113.9", 9999, 0), 0, "open before the kill switch");
	cr_assert_eq(nft_killswitch_present("nym-vpn"), 0);

	struct nft_killswitch_policy p = policy();
	p.allow_lan = false;
	struct nft_batch_error err;
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "%s", err.what);
	cr_assert_eq(nft_killswitch_present("nym-vpn"), 1);
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "a second apply replaces: %s", err.what);

	/* nft lists our table as it lists the same text loaded by nft itself, and the kernel
	 * holds the same expressions for both. */
	static char ours[16384], theirs[16384];
	list_table(ours, sizeof(ours));
	cr_assert(strstr(ours, "meta mark 0x0000014d ip daddr 203.0.113.7 udp dport 51820 accept"), "%s", ours);
	cr_assert(strstr(ours, "udp sport 68 udp dport 67 accept"), "%s", ours);
	struct nft_canon c_ours, c_theirs;
	canon_of_installed(&c_ours);
	struct nft_ruleset rs;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char dir[256], path[300];
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "killswitch.nft");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(nft_ruleset_print(&rs, f), 0);
	fclose(f);
	nft_ruleset_free(&rs);
	cr_assert_eq(nft_killswitch_remove("nym-vpn", &err), 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "nft -f %s", path);
	test_privnet_sh(cmd);
	test_tmpdir_remove(dir);
	list_table(theirs, sizeof(theirs));
	cr_assert_str_eq(ours, theirs);
	canon_of_installed(&c_theirs);
	size_t diff = nft_canon_diff(&c_ours, &c_theirs, stderr, 20);
	cr_assert_eq(diff, 0, "our encoding differs from nft's in %zu lines", diff);
	nft_canon_free(&c_ours);
	nft_canon_free(&c_theirs);
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "replacing nft's own copy: %s", err.what);

	/* Packets. */
	cr_assert_eq(send_udp("203.0.113.9", 9999, 0), -EPERM, "plain traffic out of eth0");
	cr_assert_eq(send_udp("203.0.113.7", 51820, 0), -EPERM, "the endpoint without the mark");
	cr_assert_eq(send_udp("203.0.113.7", 51820, 0x14d), 0, "the endpoint with the mark");
	cr_assert_eq(send_udp("203.0.113.7", 51821, 0x14d), -EPERM, "another port of the endpoint");
	cr_assert_eq(send_udp("203.0.113.9", 53, 0x14d), -EPERM, "DNS outside the tunnel");
	cr_assert_eq(send_udp("198.51.100.1", 9999, 0), 0, "through the tunnel");
	cr_assert_eq(send_udp("198.51.100.1", 53, 0), 0, "DNS through the tunnel");
	cr_assert_eq(send_udp("2001:db8:99::1", 9999, 0), 0, "IPv6 through the tunnel");
	cr_assert_eq(send_udp("2001:db8::9", 9999, 0), -EPERM, "IPv6 out of eth0");
	cr_assert_eq(send_udp("192.168.50.9", 9999, 0), -EPERM, "LAN blocked");
	cr_assert_eq(send_udp("127.0.0.1", 9999, 0), 0, "loopback");
	cr_assert_eq(send_udp("::1", 9999, 0), 0, "loopback (IPv6)");

	p.allow_lan = true;
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "%s", err.what);
	cr_assert_eq(send_udp("192.168.50.9", 9999, 0), 0, "LAN allowed");
	cr_assert_eq(send_udp("192.168.50.9", 53, 0), -EPERM, "LAN DNS still blocked");
	cr_assert_eq(send_udp("2001:db8::9", 9999, 0), -EPERM, "not a LAN net");

	p.allow_ipv6 = false;
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "%s", err.what);
	cr_assert_eq(send_udp("2001:db8:99::1", 9999, 0), -EPERM, "IPv6 off: not even the tunnel");
	cr_assert_eq(send_udp("198.51.100.1", 9999, 0), 0, "IPv4 through the tunnel");

	p.tunnel = NULL;
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "%s", err.what);
	cr_assert_eq(send_udp("198.51.100.1", 9999, 0), -EPERM, "no tunnel yet: nothing through nym0");
	cr_assert_eq(send_udp("203.0.113.7", 51820, 0x14d), 0, "the endpoint still");

	cr_assert_eq(nft_killswitch_remove("nym-vpn", &err), 0);
	cr_assert_eq(nft_killswitch_present("nym-vpn"), 0);
	cr_assert_eq(nft_killswitch_remove("nym-vpn", &err), 0, "absent is fine");
	char out[256];
	test_privnet_run("nft list tables", out, sizeof(out));
	cr_assert_null(strstr(out, "nym-vpn"), "%s", out);
	cr_assert_eq(send_udp("203.0.113.9", 9999, 0), 0, "open again");
	close(tun);
}

/* ---- router mode ---- */

static const char *const router_ifs[] = { "br-lan", "lan2" };
static struct nft_killswitch_net router_dns[2];

static struct nft_killswitch_policy router_policy(void)
{
	struct nft_killswitch_policy p = policy();
	p.allow_lan = false;
	memset(router_dns, 0, sizeof(router_dns));
	router_dns[0].family = AF_INET6;
	inet_pton(AF_INET6, "2606:4700:4700::1111", router_dns[0].addr);
	router_dns[1].family = AF_INET;
	inet_pton(AF_INET, "1.1.1.1", router_dns[1].addr);
	p.router_lan = router_ifs;
	p.n_router_lan = 2;
	p.router_dns = router_dns;
	p.n_router_dns = 2;
	return p;
}

Test(nft_killswitch, router_mode)
{
	struct nft_killswitch_policy p = router_policy();
	struct nft_ruleset rs;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char *all = print(&rs);
	cr_assert(strstr(all, "\tset router_lan {\n\t\ttype ifname\n"), "%s", all);
	char *out = chain_text(all, "output"), *in = chain_text(all, "input"), *fwd = chain_text(all, "forward");
	char *post = chain_text(all, "postrouting"), *pre = chain_text(all, "prerouting");
	cr_assert(strstr(out, "oifname @router_lan accept"), "%s", out);
	cr_assert(strstr(in, "iifname @router_lan accept"), "%s", in);
	cr_assert_null(strstr(fwd, "router_lan"), "forwarding only to and from the tunnel: %s", fwd);
	cr_assert(strstr(fwd, "oifname \"nym0\" accept"), "%s", fwd);
	cr_assert(strstr(post, "type nat hook postrouting priority srcnat; policy accept;"), "%s", post);
	cr_assert(strstr(post, "iifname @router_lan oifname \"nym0\" masquerade"), "%s", post);
	cr_assert(strstr(pre, "type nat hook prerouting priority dstnat; policy accept;"), "%s", pre);
	cr_assert(strstr(pre, "iifname @router_lan meta nfproto ipv4 udp dport 53 dnat ip to 1.1.1.1"), "%s", pre);
	cr_assert(strstr(pre, "iifname @router_lan meta nfproto ipv4 tcp dport 53 dnat ip to 1.1.1.1"), "%s", pre);
	cr_assert(strstr(pre, "iifname @router_lan meta nfproto ipv6 udp dport 53 dnat ip6 to 2606:4700:4700::1111"), "%s",
		  pre);
	free(out);
	free(in);
	free(fwd);
	free(post);
	free(pre);
	free(all);
	nft_ruleset_free(&rs);

	/* IPv6 off: no IPv6 DNAT, and forwarding IPv4 only. */
	p.allow_ipv6 = false;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	all = print(&rs);
	cr_assert_null(strstr(all, "dnat ip6"), "%s", all);
	cr_assert(strstr(all, "dnat ip to 1.1.1.1"), "%s", all);
	fwd = chain_text(all, "forward");
	cr_assert(strstr(fwd, "oifname \"nym0\" meta nfproto ipv4 accept"), "%s", fwd);
	free(fwd);
	free(all);
	nft_ruleset_free(&rs);

	/* No tunnel yet: no NAT at all, forward drops everything. */
	p = router_policy();
	p.tunnel = NULL;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	all = print(&rs);
	cr_assert_null(strstr(all, "postrouting"), "%s", all);
	cr_assert_null(strstr(all, "prerouting"), "%s", all);
	fwd = chain_text(all, "forward");
	cr_assert_null(strstr(fwd, "accept\n"), "nothing forwarded without the tunnel: %s", fwd);
	free(fwd);
	free(all);
	nft_ruleset_free(&rs);

	/* Bad: the tunnel as a LAN interface, an empty or long name, a bad DNS family. */
	static const char *const bad1[] = { "nym0" }, *const bad2[] = { "" }, *const bad3[] = { "a-name-that-is-too-long" };
	const char *const *bads[] = { bad1, bad2, bad3 };
	for (size_t i = 0; i < 3; i++) {
		p = router_policy();
		p.router_lan = bads[i];
		p.n_router_lan = 1;
		cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL, "case %zu", i);
		nft_ruleset_free(&rs);
	}
	p = router_policy();
	router_dns[0].family = 99;
	cr_assert_eq(nft_killswitch_build(&p, &rs), -EINVAL);
	nft_ruleset_free(&rs);
}

/* Our router-mode table, as the kernel holds it, is what nft makes of the same text. */
Test(nft_killswitch, kernel_router_mode_matches_nft)
{
	if (!test_privnet_enter() || access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("needs root (a network namespace and /dev/net/tun)");
	int tun = setup_net();
	struct nft_killswitch_policy p = router_policy();
	struct nft_batch_error err;
	cr_assert_eq(nft_killswitch_apply(&p, &err), 0, "%s", err.what);
	static char ours[16384], theirs[16384];
	list_table(ours, sizeof(ours));
	cr_assert(strstr(ours, "dnat ip to 1.1.1.1"), "%s", ours);
	cr_assert(strstr(ours, "dnat ip6 to 2606:4700:4700::1111"), "%s", ours);
	cr_assert(strstr(ours, "masquerade"), "%s", ours);
	struct nft_canon c_ours, c_theirs;
	canon_of_installed(&c_ours);
	struct nft_ruleset rs;
	cr_assert_eq(nft_killswitch_build(&p, &rs), 0);
	char dir[256], path[300];
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "router.nft");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(nft_ruleset_print(&rs, f), 0);
	fclose(f);
	nft_ruleset_free(&rs);
	cr_assert_eq(nft_killswitch_remove("nym-vpn", &err), 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "nft -f %s", path);
	test_privnet_sh(cmd);
	test_tmpdir_remove(dir);
	list_table(theirs, sizeof(theirs));
	cr_assert_str_eq(ours, theirs);
	canon_of_installed(&c_theirs);
	size_t diff = nft_canon_diff(&c_ours, &c_theirs, stderr, 20);
	cr_assert_eq(diff, 0, "our encoding differs from nft's in %zu lines", diff);
	nft_canon_free(&c_ours);
	nft_canon_free(&c_theirs);
	cr_assert_eq(nft_killswitch_remove("nym-vpn", &err), 0);
	close(tun);
}
