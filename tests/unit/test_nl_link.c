/* tun and nl_link against the kernel, each test in a network namespace of its own (Criterion
 * forks per test; unshare(CLONE_NEWNET) needs root, and the tests are skipped without it).
 * What the kernel holds afterwards is read back with `ip`, an independent reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/tun.h"
#include "netlink/nl_link.h"

static bool in_own_netns(void)
{
	if (unshare(CLONE_NEWNET) != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		return false;
	return true;
}

/* The output of a shell command. */
static void run(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	pclose(f);
}

Test(nl_link, tun_up_with_addresses_routes_and_rules)
{
	if (!in_own_netns())
		cr_skip_test("needs root (a network namespace and /dev/net/tun)");
	int fd;
	cr_assert_eq(tun_open("", &fd), -EINVAL);
	cr_assert_eq(tun_open("a-name-that-is-too-long", &fd), -EINVAL);
	cr_assert_eq(tun_open("nymtest0", &fd), 0);
	char name[IF_NAMESIZE];
	cr_assert_eq(tun_name(fd, name), 0);
	cr_assert_str_eq(name, "nymtest0");
	uint8_t v4[4] = { 10, 9, 0, 1 }, v6[16] = { 0xfd, 0x00 };
	v6[15] = 1;
	cr_assert_eq(nl_link_addr_add("nymtest0", AF_INET, v4, 24), 0);
	cr_assert_eq(nl_link_addr_add("nymtest0", AF_INET, v4, 24), -EEXIST);
	cr_assert_eq(nl_link_addr_add("nymtest0", AF_INET6, v6, 64), 0);
	cr_assert_eq(nl_link_addr_add("nymtest0", AF_INET, v4, 33), -EINVAL);
	cr_assert_eq(nl_link_addr_add("nosuchdev", AF_INET, v4, 24), -ENODEV);
	cr_assert_eq(nl_link_set_up("nymtest0", 1400), 0);
	cr_assert_eq(nl_link_route_add_default("nymtest0", AF_INET, 100), 0);
	cr_assert_eq(nl_link_route_add_default("nymtest0", AF_INET6, 100), 0);
	cr_assert_eq(nl_link_rule_add_oif("nymtest0", AF_INET, 100, 1000), 0);
	cr_assert_eq(nl_link_rule_add_oif("nymtest0", AF_INET6, 100, 1000), 0);

	char out[4096];
	run("ip -o link show nymtest0", out, sizeof(out));
	cr_assert(strstr(out, "mtu 1400") && strstr(out, ",UP"), "%s", out);
	run("ip -o addr show dev nymtest0", out, sizeof(out));
	cr_assert(strstr(out, "inet 10.9.0.1/24"), "%s", out);
	cr_assert(strstr(out, "inet6 fd00::1/64"), "%s", out);
	run("ip route show table 100", out, sizeof(out));
	cr_assert(strstr(out, "default dev nymtest0"), "%s", out);
	run("ip -6 route show table 100", out, sizeof(out));
	cr_assert(strstr(out, "default dev nymtest0"), "%s", out);
	run("ip rule show", out, sizeof(out));
	cr_assert(strstr(out, "1000:\tfrom all oif nymtest0 lookup 100"), "%s", out);
	run("ip -6 rule show", out, sizeof(out));
	cr_assert(strstr(out, "1000:\tfrom all oif nymtest0 lookup 100"), "%s", out);
	/* A socket bound to the device reaches an address through table 100. */
	run("ip route get 192.0.2.1 oif nymtest0", out, sizeof(out));
	cr_assert(strstr(out, "dev nymtest0"), "%s", out);

	cr_assert_eq(nl_link_rule_del_oif("nymtest0", AF_INET, 100, 1000), 0);
	cr_assert_eq(nl_link_rule_del_oif("nymtest0", AF_INET6, 100, 1000), 0);
	cr_assert_neq(nl_link_rule_del_oif("nymtest0", AF_INET, 100, 1000), 0);
	cr_assert_eq(nl_link_route_del_default("nymtest0", AF_INET, 100), 0);
	cr_assert_eq(nl_link_route_del_default("nymtest0", AF_INET6, 100), 0);
	cr_assert_eq(nl_link_addr_del("nymtest0", AF_INET, v4, 24), 0);
	run("ip rule show; ip route show table 100; ip -o -4 addr show dev nymtest0", out, sizeof(out));
	cr_assert_null(strstr(out, "nymtest0"), "%s", out);
	close(fd);
	run("ip link show nymtest0 2>&1", out, sizeof(out));
	cr_assert(strstr(out, "does not exist"), "the device goes with its fd: %s", out);
}
