#include "vpn/vpn_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base58.h"
#include "util/log.h"

#define F(field) offsetof(struct vpn_config, field)

const struct conf_key vpn_config_schema[] = {
	{ "network.name", CONF_STRING, F(network.name), "mainnet", "network name; the state lives in <daemon.data_dir>/<network.name>/", 0, 0 },
	{ "network.authorities", CONF_LIST, F(network.authorities), NULL, "directory authority URLs (http://HOST:PORT) the topology and credentials come from; --authority replaces them", 0, 0 },
	{ "network.authority_keys", CONF_LIST, F(network.authority_keys), NULL, "base58 Ed25519 keys of the authorities whose signatures count (a majority must sign); --authority-key replaces them", 0, 0 },
	{ "daemon.socket", CONF_STRING, F(daemon.socket), "/run/nym-vpnd.sock", "control socket nym-vpnc talks to; --socket overrides", 0, 0 },
	{ "daemon.socket_group", CONF_STRING, F(daemon.socket_group), "nym-vpn", "group owning the socket whose members may change settings and connect (ignored when no such group exists; root always may)", 0, 0 },
	{ "daemon.socket_mode", CONF_STRING, F(daemon.socket_mode), "660", "octal permissions of the socket", 0, 0 },
	{ "daemon.data_dir", CONF_STRING, F(daemon.data_dir), "/var/lib/nym-vpnd", "state directory (keys, tickets, settings); --data-dir overrides", 0, 0 },
	{ "tunnel.device", CONF_STRING, F(tunnel.device), "nym0", "TUN device of the mixnet tunnel", 0, 0 },
	{ "tunnel.mtu", CONF_U64, F(tunnel.mtu), "1500", "MTU of the TUN device", 1280, 1500 },
	{ "tunnel.fwmark", CONF_U64, F(tunnel.fwmark), "333", "firewall mark (decimal; 333 = 0x14d) of the gateway link and API sockets: marked traffic leaves by the physical route", 1, 4294967295.0 },
	{ "tunnel.table", CONF_U64, F(tunnel.table), "333", "routing table holding the tunnel's default routes", 1, 4294967295.0 },
	{ "dns.default_servers", CONF_LIST, F(dns.default_servers), "1.1.1.1,1.0.0.1,2606:4700:4700::1111,2606:4700:4700::1001", "resolvers used through the tunnel unless `nym-vpnc dns set` chose others", 0, 0 },
	{ "dns.backend", CONF_STRING, F(dns.backend), "auto", "how DNS is configured: auto (systemd-resolved, else resolvconf, else static-file), systemd-resolved, resolvconf or static-file", 0, 0 },
	{ "dns.resolv_conf", CONF_STRING, F(dns.resolv_conf), "/etc/resolv.conf", "file the static-file backend rewrites in place (and restores)", 0, 0 },
	{ "wireguard.backend", CONF_STRING, F(wireguard.backend), "auto", "two-hop mode's WireGuard devices: auto (the kernel's when it has WireGuard, else wireguard-go), kernel or userspace", 0, 0 },
	{ "start.mode", CONF_STRING, F(start.mode), "", "applied over the saved settings at every start (empty: keep them): mixnet or two-hop", 0, 0 },
	{ "start.entry_gateway", CONF_STRING, F(start.entry_gateway), "", "applied at every start (empty: keep the saved one): random, a gateway identity (base58) or a two-letter country code", 0, 0 },
	{ "start.exit_gateway", CONF_STRING, F(start.exit_gateway), "", "the same for the exit gateway", 0, 0 },
	{ "start.connect", CONF_BOOL, F(start.connect), "false", "connect at every start, as `nym-vpnc connect` (a router's tunnel comes up at boot)", 0, 0 },
	{ "router.lan_interfaces", CONF_LIST, F(router.lan_interfaces), NULL, "router mode: LAN interfaces (br-lan) whose hosts go through the tunnel, masqueraded, their DNS sent to the tunnel's resolvers; nothing of theirs reaches the WAN while the tunnel is down; empty = off; --lan replaces them", 0, 0 },
	{ "logging.level", CONF_STRING, F(logging.level), "info", "error, warn, info or debug; --log-level overrides", 0, 0 },
	{ 0 },
};

void vpn_config_defaults(struct vpn_config *c)
{
	char err[CONF_ERROR_MAX];
	memset(c, 0, sizeof(*c));
	if (conf_defaults(vpn_config_schema, c, err) != 0)
		abort(); /* a broken schema default: a bug caught by the unit test */
}

int vpn_config_url_ok(const char *text)
{
	size_t n = strlen(text);
	if (strncmp(text, "http://", 7) != 0 && strncmp(text, "https://", 8) != 0)
		return 0;
	if (n > 200 || n == 7 || n == 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f)
			return 0;
	return 1;
}

int vpn_config_point(const char *text, struct vpn_point *p)
{
	memset(p, 0, sizeof(*p));
	size_t n = strlen(text);
	if (n == 0)
		return 1;
	if (strcmp(text, "random") == 0) {
		p->kind = VPN_POINT_RANDOM;
		return 0;
	}
	if (n == 2 && isalpha((unsigned char)text[0]) && isalpha((unsigned char)text[1])) {
		p->kind = VPN_POINT_COUNTRY;
		p->country[0] = (char)toupper((unsigned char)text[0]);
		p->country[1] = (char)toupper((unsigned char)text[1]);
		return 0;
	}
	if (nym_base58_decode_exact(p->id, 32, text) == 0) {
		p->kind = VPN_POINT_ID;
		return 0;
	}
	return -EINVAL;
}

int vpn_config_socket_mode(const struct vpn_config *c, mode_t *mode)
{
	const char *s = c->daemon.socket_mode;
	char *end;
	if (!*s || strlen(s) > 4)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '7')
			return -EINVAL;
	unsigned long v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return -EINVAL;
	*mode = (mode_t)v;
	return 0;
}

static int ip_ok(const char *s)
{
	uint8_t buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int vpn_config_validate(const void *config, char msg[CONF_ERROR_MAX], const char **key)
{
	const struct vpn_config *c = config;
	enum nym_log_level level;
	mode_t mode;
	uint8_t pub[32];
	const char *n = c->network.name;
	if (!*n || strlen(n) > 64 || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
		*key = "network.name";
		snprintf(msg, CONF_ERROR_MAX, "expected a name without '/', got \"%.60s\"", n);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->network.authorities.count; i++)
		if (!vpn_config_url_ok(c->network.authorities.item[i])) {
			*key = "network.authorities";
		snprintf(msg, CONF_ERROR_MAX, "expected http://HOST:PORT, got \"%.60s\"",
				 c->network.authorities.item[i]);
			return -EINVAL;
		}
	for (size_t i = 0; i < c->network.authority_keys.count; i++)
		if (nym_base58_decode_exact(pub, 32, c->network.authority_keys.item[i]) != 0) {
			*key = "network.authority_keys";
		snprintf(msg, CONF_ERROR_MAX, "\"%.60s\" is not a base58 Ed25519 key",
				 c->network.authority_keys.item[i]);
			return -EINVAL;
		}
	if (!c->daemon.socket[0] || c->daemon.socket[0] != '/' || strlen(c->daemon.socket) >= 108) {
		*key = "daemon.socket";
		snprintf(msg, CONF_ERROR_MAX, "expected an absolute path under 108 bytes, got \"%.60s\"",
			 c->daemon.socket);
		return -EINVAL;
	}
	if (vpn_config_socket_mode(c, &mode) != 0) {
		*key = "daemon.socket_mode";
		snprintf(msg, CONF_ERROR_MAX, "expected octal permissions such as 660, got \"%.20s\"",
			 c->daemon.socket_mode);
		return -EINVAL;
	}
	if (!c->daemon.data_dir[0]) {
		*key = "daemon.data_dir";
		snprintf(msg, CONF_ERROR_MAX, "expected a directory");
		return -EINVAL;
	}
	size_t dl = strlen(c->tunnel.device);
	if (dl == 0 || dl > 15 || strchr(c->tunnel.device, '/') || strchr(c->tunnel.device, ' ')) {
		*key = "tunnel.device";
		snprintf(msg, CONF_ERROR_MAX, "expected an interface name of 1 to 15 characters, got \"%.40s\"",
			 c->tunnel.device);
		return -EINVAL;
	}
	if (c->tunnel.table == 253 || c->tunnel.table == 254 || c->tunnel.table == 255) {
		*key = "tunnel.table";
		snprintf(msg, CONF_ERROR_MAX, "%llu is a table of the system (default, main, local)",
			 (unsigned long long)c->tunnel.table);
		return -EINVAL;
	}
	if (c->dns.default_servers.count == 0) {
		*key = "dns.default_servers";
		snprintf(msg, CONF_ERROR_MAX, "expected at least one address");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->dns.default_servers.count; i++)
		if (!ip_ok(c->dns.default_servers.item[i])) {
			*key = "dns.default_servers";
		snprintf(msg, CONF_ERROR_MAX, "\"%.60s\" is not an IPv4 or IPv6 address",
				 c->dns.default_servers.item[i]);
			return -EINVAL;
		}
	static const char *const backends[] = { "auto", "systemd-resolved", "resolvconf", "static-file" };
	bool known = false;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		known |= strcmp(c->dns.backend, backends[i]) == 0;
	if (!known) {
		*key = "dns.backend";
		snprintf(msg, CONF_ERROR_MAX, "expected auto, systemd-resolved, resolvconf or static-file, got \"%.40s\"", c->dns.backend);
		return -EINVAL;
	}
	if (strcmp(c->wireguard.backend, "auto") && strcmp(c->wireguard.backend, "kernel") &&
	    strcmp(c->wireguard.backend, "userspace")) {
		*key = "wireguard.backend";
		snprintf(msg, CONF_ERROR_MAX, "expected auto, kernel or userspace, got \"%.40s\"", c->wireguard.backend);
		return -EINVAL;
	}
	if (c->dns.resolv_conf[0] != '/') {
		*key = "dns.resolv_conf";
		snprintf(msg, CONF_ERROR_MAX, "expected an absolute path, got \"%.60s\"", c->dns.resolv_conf);
		return -EINVAL;
	}
	if (c->start.mode[0] && strcmp(c->start.mode, "mixnet") && strcmp(c->start.mode, "two-hop")) {
		*key = "start.mode";
		snprintf(msg, CONF_ERROR_MAX, "expected mixnet, two-hop or nothing, got \"%.40s\"", c->start.mode);
		return -EINVAL;
	}
	struct vpn_point pt;
	if (vpn_config_point(c->start.entry_gateway, &pt) < 0 || vpn_config_point(c->start.exit_gateway, &pt) < 0) {
		bool entry = vpn_config_point(c->start.entry_gateway, &pt) < 0;
		*key = entry ? "start.entry_gateway" : "start.exit_gateway";
		snprintf(msg, CONF_ERROR_MAX, "expected random, a base58 gateway identity or a two-letter country code, got \"%.60s\"",
			 entry ? c->start.entry_gateway : c->start.exit_gateway);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->router.lan_interfaces.count; i++) {
		const char *ifn = c->router.lan_interfaces.item[i];
		size_t l = strlen(ifn);
		bool bad = l == 0 || l > 15 || strcmp(ifn, c->tunnel.device) == 0 || strcmp(ifn, "lo") == 0 ||
			   strcmp(ifn, ".") == 0 || strcmp(ifn, "..") == 0;
		for (size_t k = 0; k < l; k++)
			bad |= ifn[k] == '/' || ifn[k] == ':' || (unsigned char)ifn[k] <= ' ' || (unsigned char)ifn[k] >= 0x7f;
		for (size_t j = 0; j < i; j++)
			bad |= strcmp(ifn, c->router.lan_interfaces.item[j]) == 0;
		if (bad) {
			*key = "router.lan_interfaces";
			snprintf(msg, CONF_ERROR_MAX,
				 "expected distinct interface names of 1 to 15 characters other than lo and the tunnel, got \"%.40s\"",
				 ifn);
			return -EINVAL;
		}
	}
	if (nym_log_parse_level(c->logging.level, &level) != 0) {
		*key = "logging.level";
		snprintf(msg, CONF_ERROR_MAX, "expected error, warn, info or debug, got \"%.40s\"",
			 c->logging.level);
		return -EINVAL;
	}
	return 0;
}

int vpn_config_load(const char *path, struct vpn_config *c, char err[CONF_ERROR_MAX])
{
	vpn_config_defaults(c);
	int rc = conf_load_checked(path, vpn_config_schema, c, vpn_config_validate, err);
	if (rc == -ENOENT) {
		vpn_config_defaults(c);
		snprintf(err, CONF_ERROR_MAX, "%s: no such file", path);
	}
	return rc;
}
