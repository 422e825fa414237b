/* Tunnel policy routing against the kernel, each test in a private network namespace (root
 * only; skipped otherwise). What the kernel holds is read back with `ip`, an independent
 * reader. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "../support/privnet.h"
#include "io/tun.h"
#include "netlink/nl_policy.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Adds "32765: not fwmark M lookup T" WITHOUT NLM_F_EXCL, which the kernel takes even when
 * the same rule exists: the duplicate a careless program can leave. */
static void add_dup_mark_rule(uint32_t table, uint32_t mark)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	struct fib_rule_hdr *fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = AF_INET;
	fr->action = FR_ACT_TO_TBL;
	fr->flags = FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, 32765);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	cr_assert_not_null(nl);
	cr_assert_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	cr_assert_geq(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), 0);
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	cr_assert_geq(n, 0);
	cr_assert_geq(mnl_cb_run(buf, (size_t)n, 1, mnl_socket_get_portid(nl), NULL, NULL), 0);
	mnl_socket_close(nl);
}

static int open_tun(void)
{
	int fd;
	cr_assert_eq(tun_open("nym0", &fd), 0);
	test_privnet_sh("ip link set nym0 up && ip addr add 10.9.0.2/32 dev nym0 && "
			"ip -6 addr add fd00:9::2/128 dev nym0 nodad");
	return fd;
}

Test(nl_policy, up_twice_down_restores)
{
	if (!test_privnet_enter() || access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("needs root (a network namespace and /dev/net/tun)");
	int fd = open_tun();
	static char before4[4096], before6[4096], out[4096], after[4096];
	test_privnet_run("ip -4 rule show", before4, sizeof(before4));
	test_privnet_run("ip -6 rule show", before6, sizeof(before6));

	struct nl_policy_routing r = { .ifname = "nym0", .table = 333, .fwmark = 0x14d, .ipv4 = true, .ipv6 = true };
	cr_assert_eq(nl_policy_up(&r), 0);
	cr_assert_eq(nl_policy_up(&r), 0, "a second up changes nothing");
	for (int fam = 4; fam <= 6; fam += 2) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "ip -%d rule show", fam);
		test_privnet_run(cmd, out, sizeof(out));
		cr_assert_eq(count(out, "32764:\tfrom all lookup main suppress_prefixlength 0"), 1, "%s", out);
		cr_assert_eq(count(out, "32765:\tnot from all fwmark 0x14d lookup 333"), 1, "%s", out);
		snprintf(cmd, sizeof(cmd), "ip -%d route show table 333", fam);
		test_privnet_run(cmd, out, sizeof(out));
		cr_assert(strstr(out, "default dev nym0"), "%s", out);
	}
	/* Unmarked traffic takes the tunnel, marked traffic does not. */
	test_privnet_run("ip route get 192.0.2.1", out, sizeof(out));
	cr_assert(strstr(out, "dev nym0") && strstr(out, "table 333"), "%s", out);
	test_privnet_run("ip route get 192.0.2.1 mark 0x14d 2>&1", out, sizeof(out));
	cr_assert_null(strstr(out, "dev nym0"), "%s", out);
	test_privnet_run("ip -6 route get 2001:db8::1", out, sizeof(out));
	cr_assert(strstr(out, "dev nym0"), "%s", out);

	/* The kernel refuses an exact duplicate (ip rule add is exclusive); a stale rule (an
	 * older table, same mark) is cleaned up. */
	cr_assert_neq(test_privnet_run("ip rule add pref 32765 not fwmark 0x14d lookup 333 2>/dev/null", NULL, 0), 0);
	test_privnet_sh("ip rule add pref 32765 not fwmark 0x14d lookup 444");
	add_dup_mark_rule(333, 0x14d);
	test_privnet_run("ip -4 rule show", out, sizeof(out));
	cr_assert_eq(count(out, "not from all fwmark 0x14d lookup 333"), 2, "the duplicate is there: %s", out);
	cr_assert_eq(nl_policy_up(&r), 0);
	test_privnet_run("ip -4 rule show", out, sizeof(out));
	cr_assert_eq(count(out, "32765:"), 1, "%s", out);
	cr_assert_eq(count(out, "32764:"), 1, "%s", out);
	cr_assert_eq(count(out, "lookup 444"), 0, "%s", out);

	/* IPv6 turned off: its rules and routes go. */
	r.ipv6 = false;
	cr_assert_eq(nl_policy_up(&r), 0);
	test_privnet_run("ip -6 rule show", out, sizeof(out));
	cr_assert_str_eq(out, before6);
	test_privnet_run("ip -6 route show table 333", out, sizeof(out));
	cr_assert_str_eq(out, "");
	test_privnet_run("ip -4 rule show", out, sizeof(out));
	cr_assert_eq(count(out, "fwmark 0x14d lookup 333"), 1, "%s", out);

	r.ipv6 = true;
	cr_assert_eq(nl_policy_up(&r), 0);
	cr_assert_eq(nl_policy_down(333, 0x14d), 0);
	test_privnet_run("ip -4 rule show", after, sizeof(after));
	cr_assert_str_eq(after, before4);
	test_privnet_run("ip -6 rule show", after, sizeof(after));
	cr_assert_str_eq(after, before6);
	test_privnet_run("ip route show table 333; ip -6 route show table 333", out, sizeof(out));
	cr_assert_str_eq(out, "");
	cr_assert_eq(nl_policy_down(333, 0x14d), 0, "down again: nothing to do");

	cr_assert_eq(nl_policy_up(&(struct nl_policy_routing){ .ifname = "nosuch0", .table = 333, .fwmark = 1, .ipv4 = true }),
		     -ENODEV);
	cr_assert_eq(nl_policy_up(&(struct nl_policy_routing){ .ifname = "nym0", .table = 254, .fwmark = 1, .ipv4 = true }),
		     -EINVAL);
	cr_assert_eq(nl_policy_up(&(struct nl_policy_routing){ .ifname = "nym0", .table = 333, .fwmark = 0, .ipv4 = true }),
		     -EINVAL);
	cr_assert_eq(nl_policy_down(254, 0x14d), -EINVAL);
	close(fd);
}

Test(nl_policy, onlink_prefixes)
{
	if (!test_privnet_enter() || access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("needs root (a network namespace and /dev/net/tun)");
	int tun = open_tun();
	int eth;
	cr_assert_eq(tun_open("eth0", &eth), 0);
	test_privnet_sh("ip link set eth0 up && ip addr add 192.168.7.10/24 dev eth0 && "
			"ip addr add 172.20.1.1/16 dev eth0 && ip -6 addr add 2001:db8:5::10/64 dev eth0 nodad && "
			"ip route add default via 192.168.7.1 dev eth0 && "
			"ip route add 10.50.0.0/16 via 192.168.7.1 dev eth0 && "
			"ip addr add 10.9.9.1/24 dev nym0");
	struct nl_policy_prefix p[8];
	size_t n;
	cr_assert_eq(nl_policy_onlink_prefixes(AF_INET, "nym0", p, 8, &n), 0);
	cr_assert_eq(n, 2, "the two connected nets of eth0, not the routes via a gateway nor nym0's");
	char a[64], b[64];
	snprintf(a, sizeof(a), "%s/%u", inet_ntop(AF_INET, p[0].addr, (char[INET_ADDRSTRLEN]){ 0 }, INET_ADDRSTRLEN),
		 p[0].prefix);
	snprintf(b, sizeof(b), "%s/%u", inet_ntop(AF_INET, p[1].addr, (char[INET_ADDRSTRLEN]){ 0 }, INET_ADDRSTRLEN),
		 p[1].prefix);
	cr_assert((strcmp(a, "192.168.7.0/24") == 0 && strcmp(b, "172.20.0.0/16") == 0) ||
			  (strcmp(b, "192.168.7.0/24") == 0 && strcmp(a, "172.20.0.0/16") == 0),
		  "%s %s", a, b);
	cr_assert_eq(p[0].family, AF_INET);

	cr_assert_eq(nl_policy_onlink_prefixes(AF_INET, NULL, p, 8, &n), 0);
	cr_assert_eq(n, 3, "nym0's /24 too without an exception");
	cr_assert_eq(nl_policy_onlink_prefixes(AF_INET, NULL, p, 2, &n), -ENOSPC);
	cr_assert_eq(n, 2);

	cr_assert_eq(nl_policy_onlink_prefixes(AF_INET6, "nym0", p, 8, &n), 0);
	bool seen = false;
	for (size_t i = 0; i < n; i++) {
		char t[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, p[i].addr, t, sizeof(t));
		cr_assert_str_neq(t, "fd00:9::2", "nym0 excepted");
		if (strcmp(t, "2001:db8:5::") == 0 && p[i].prefix == 64)
			seen = true;
	}
	cr_assert(seen, "2001:db8:5::/64 among %zu", n);
	cr_assert_eq(nl_policy_onlink_prefixes(AF_UNIX, NULL, p, 8, &n), -EINVAL);
	close(eth);
	close(tun);
}
