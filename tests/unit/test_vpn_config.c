#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../support/tmpdir.h"
#include "vpn/vpn_config.h"

static char dir[256], path[512];

static void setup(void)
{
	test_tmpdir(dir, sizeof(dir));
	test_path(path, sizeof(path), dir, "nym-vpnd.yaml");
}

static void teardown(void)
{
	test_tmpdir_remove(dir);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

TestSuite(vpn_config, .init = setup, .fini = teardown);

Test(vpn_config, defaults_match_the_contract)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	vpn_config_defaults(&c);
	cr_assert_str_eq(c.network.name, "mainnet");
	cr_assert_str_eq(c.daemon.socket, "/run/nym-vpnd.sock");
	cr_assert_str_eq(c.daemon.socket_group, "nym-vpn");
	cr_assert_str_eq(c.daemon.data_dir, "/var/lib/nym-vpnd");
	cr_assert_str_eq(c.tunnel.device, "nym0");
	cr_assert_eq(c.tunnel.mtu, 1500);
	cr_assert_eq(c.tunnel.fwmark, 0x14d);
	cr_assert_eq(c.tunnel.table, 0x14d);
	cr_assert_eq(c.dns.default_servers.count, 4);
	cr_assert_str_eq(c.dns.default_servers.item[0], "1.1.1.1");
	cr_assert_str_eq(c.dns.default_servers.item[3], "2606:4700:4700::1001");
	cr_assert_str_eq(c.dns.backend, "auto");
	cr_assert_str_eq(c.dns.resolv_conf, "/etc/resolv.conf");
	cr_assert_str_eq(c.wireguard.backend, "auto");
	mode_t m;
	cr_assert_eq(vpn_config_socket_mode(&c, &m), 0);
	cr_assert_eq(m, 0660);
	const char *key = "";
	cr_assert_eq(vpn_config_validate(&c, err, &key), 0, "%s: %s", key, err);
}

Test(vpn_config, loads_a_file)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	write_text("network:\n  name: sandbox\n  authorities: [\"http://10.0.0.1:8080\"]\n"
		   "daemon:\n  socket_mode: \"600\"\n  data_dir: /tmp/x\n"
		   "tunnel:\n  mtu: 1400\n"
		   "dns:\n  backend: static-file\n  default_servers: [9.9.9.9]\n");
	cr_assert_eq(vpn_config_load(path, &c, err), 0, "%s", err);
	cr_assert_str_eq(c.network.name, "sandbox");
	cr_assert_eq(c.network.authorities.count, 1);
	cr_assert_eq(c.tunnel.mtu, 1400);
	cr_assert_str_eq(c.dns.backend, "static-file");
	cr_assert_eq(c.dns.default_servers.count, 1);
	mode_t m;
	cr_assert_eq(vpn_config_socket_mode(&c, &m), 0);
	cr_assert_eq(m, 0600);
}

Test(vpn_config, missing_file_is_enoent_with_defaults)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	cr_assert_eq(vpn_config_load("/nonexistent/nym-vpnd.yaml", &c, err), -ENOENT);
	cr_assert_str_eq(c.tunnel.device, "nym0");
}

Test(vpn_config, errors_name_file_and_line)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	write_text("network:\n  name: x\ntunnel:\n  mtu: lots\n");
	cr_assert_eq(vpn_config_load(path, &c, err), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:4:", path);
	cr_assert(strstr(err, want) != NULL, "%s", err);
	cr_assert(strstr(err, "tunnel.mtu") != NULL, "%s", err);

	write_text("tunnel:\n  colour: red\n");
	cr_assert_eq(vpn_config_load(path, &c, err), -EINVAL);
	cr_assert(strstr(err, "colour") != NULL, "%s", err);

	write_text("network: [unclosed\n");
	cr_assert_eq(vpn_config_load(path, &c, err), -EINVAL);
	cr_assert(strstr(err, path) != NULL, "%s", err);
}

Test(vpn_config, semantic_checks)
{
	/* Each refused at its value's place: line 2 (3 after the comment). */
	static const struct {
		const char *text, *where;
	} bad[] = {
		{ "dns:\n  backend: magic\n", ":2:12: dns.backend: " },
		{ "dns:\n  default_servers: [not-an-ip]\n", ":2:20: dns.default_servers: " },
		{ "daemon:\n  socket_mode: \"999\"\n", ":2:16: daemon.socket_mode: " },
		{ "# the socket\ndaemon:\n  socket: relative.sock\n", ":3:11: daemon.socket: " },
		{ "network:\n  authorities: [ftp://x]\n", ":2:16: network.authorities: " },
		{ "network:\n  authority_keys: [notbase58!]\n", ":2:19: network.authority_keys: " },
		{ "network:\n  name: a/b\n", ":2:9: network.name: " },
		{ "tunnel:\n  device: averyveryverylongname\n", ":2:11: tunnel.device: " },
		{ "tunnel:\n  table: 254\n", ":2:10: tunnel.table: " },
		{ "tunnel:\n  mtu: 9000\n", ":2:8: tunnel.mtu: " },
		{ "logging:\n  level: loud\n", ":2:10: logging.level: " },
		{ "wireguard:\n  backend: fast\n", ":2:12: wireguard.backend: " },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vpn_config c;
		char err[CONF_ERROR_MAX] = "", want[600];
		write_text(bad[i].text);
		cr_assert_eq(vpn_config_load(path, &c, err), -EINVAL, "accepted: %s", bad[i].text);
		snprintf(want, sizeof(want), "%s%s", path, bad[i].where);
		cr_assert(strncmp(err, want, strlen(want)) == 0, "want %s, got %s", want, err);
	}
}

Test(vpn_config, written_default_reads_back)
{
	struct vpn_config c, d;
	char err[CONF_ERROR_MAX];
	vpn_config_defaults(&c);
	cr_assert_eq(conf_write(path, vpn_config_schema, &c, 0644), 0);
	cr_assert_eq(vpn_config_load(path, &d, err), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
}

Test(vpn_config, router_lan_interfaces)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	vpn_config_defaults(&c);
	cr_assert_eq(c.router.lan_interfaces.count, 0, "router mode off by default");
	write_text("router:\n  lan_interfaces: [br-lan, \"wlan0\"]\n");
	cr_assert_eq(vpn_config_load(path, &c, err), 0, "%s", err);
	cr_assert_eq(c.router.lan_interfaces.count, 2);
	cr_assert_str_eq(c.router.lan_interfaces.item[0], "br-lan");
	cr_assert_str_eq(c.router.lan_interfaces.item[1], "wlan0");
	static const char *const bad[] = {
		"router:\n  lan_interfaces: [nym0]\n",
		"router:\n  lan_interfaces: [lo]\n",
		"router:\n  lan_interfaces: [br-lan, br-lan]\n",
		"router:\n  lan_interfaces: [\"a-name-that-is-too-long\"]\n",
		"router:\n  lan_interfaces: [\"br lan\"]\n",
		"router:\n  lan_interfaces: [\"\"]\n",
		"tunnel:\n  device: tun7\nrouter:\n  lan_interfaces: [tun7]\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(bad[i]);
		cr_assert_eq(vpn_config_load(path, &c, err), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(err, "router.lan_interfaces"), "%s", err);
	}
}

Test(vpn_config, start_section)
{
	struct vpn_config c;
	char err[CONF_ERROR_MAX];
	struct vpn_point p;
	write_text("start:\n  mode: two-hop\n  entry_gateway: de\n  exit_gateway: random\n  connect: true\n");
	cr_assert_eq(vpn_config_load(path, &c, err), 0, "%s", err);
	cr_assert_str_eq(c.start.mode, "two-hop");
	cr_assert(c.start.connect);
	cr_assert_eq(vpn_config_point(c.start.entry_gateway, &p), 0);
	cr_assert_eq(p.kind, VPN_POINT_COUNTRY);
	cr_assert_str_eq(p.country, "DE");
	cr_assert_eq(vpn_config_point(c.start.exit_gateway, &p), 0);
	cr_assert_eq(p.kind, VPN_POINT_RANDOM);
	cr_assert_eq(vpn_config_point("", &p), 1, "empty: keep the saved one");
	cr_assert_eq(vpn_config_point("9qQjuT1Q67N7payy1AqzVDDEuewvu4TEiK13wBQ19kDo", &p), 0);
	cr_assert_eq(p.kind, VPN_POINT_ID);
	static const char *const bad[] = {
		"start:\n  mode: wireguard\n",
		"start:\n  entry_gateway: DEU\n",
		"start:\n  exit_gateway: \"not base58 0OIl\"\n",
		"start:\n  connect: maybe\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(bad[i]);
		cr_assert_neq(vpn_config_load(path, &c, err), 0, "%s", bad[i]);
		cr_assert(strstr(err, "start."), "%s", err);
	}
}
