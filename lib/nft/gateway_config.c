#include "nft/gateway_config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

static const uint16_t default_tcp[] = { 80, 443, 1789, 1790, 8080, 9000, 9001, 41264 };
static const uint16_t default_udp[] = { 51264 };
static const uint16_t default_gateway_udp[] = { 51822, 4443 };
static const uint16_t default_wireguard_tcp[] = { 51830 };

static void set_ports(struct nft_gateway_ports *p, const uint16_t *v, size_t n)
{
	memcpy(p->port, v, n * sizeof(*v));
	p->n = n;
}

void gateway_config_defaults(struct gateway_config *cfg, const char *policy)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = NFT_GATEWAY_EXIT;
	snprintf(cfg->policy, sizeof(cfg->policy), "%s", policy ? policy : "");
	strcpy(cfg->uplink_v4, "auto");
	strcpy(cfg->uplink_v6, "auto");
	cfg->ssh_port = 22;
	cfg->host_firewall = true;
	cfg->flow_offload = true;
	/* nym-facts.md 2.3: the IP packet router's TUN and the WireGuard interface. */
	struct nft_gateway_tunnel *t = &cfg->tunnels[0];
	strcpy(t->ifname, "nymtun0");
	t->has_v4 = t->has_v6 = true;
	memcpy(t->v4, (uint8_t[]){ 10, 0, 0, 0 }, 4);
	t->v4_prefix = 16;
	t->v6[0] = 0xfc;
	t->v6_prefix = 112;
	t = &cfg->tunnels[1];
	strcpy(t->ifname, "nymwg");
	t->has_v4 = t->has_v6 = true;
	memcpy(t->v4, (uint8_t[]){ 10, 1, 0, 0 }, 4);
	t->v4_prefix = 16;
	t->v6[0] = 0xfc;
	t->v6[1] = 0x01;
	t->v6_prefix = 112;
	cfg->n_tunnels = 2;
	strcpy(cfg->wireguard_interface, "nymwg");
	set_ports(&cfg->tcp, default_tcp, sizeof(default_tcp) / sizeof(default_tcp[0]));
	set_ports(&cfg->udp, default_udp, sizeof(default_udp) / sizeof(default_udp[0]));
	set_ports(&cfg->gateway_udp, default_gateway_udp, sizeof(default_gateway_udp) / sizeof(default_gateway_udp[0]));
	set_ports(&cfg->wireguard_tcp, default_wireguard_tcp,
		  sizeof(default_wireguard_tcp) / sizeof(default_wireguard_tcp[0]));
	/* An entry gateway forwards WireGuard and registration only: Nym's Lewes Protocol ports
	 * and our client link (9000/tcp), over which a two-hop client registers with the exit. */
	cfg->entry_ports[0] = (struct gateway_config_entry_port){ 51822, true };
	cfg->entry_ports[1] = (struct gateway_config_entry_port){ 41264, false };
	cfg->entry_ports[2] = (struct gateway_config_entry_port){ 51264, true };
	cfg->entry_ports[3] = (struct gateway_config_entry_port){ 9000, false };
	cfg->n_entry_ports = 4;
}

int gateway_config_mode_parse(const char *s, enum nft_gateway_mode *out)
{
	if (strcmp(s, "mixnode") == 0)
		*out = NFT_GATEWAY_MIXNODE;
	else if (strcmp(s, "entry-gateway") == 0)
		*out = NFT_GATEWAY_ENTRY;
	else if (strcmp(s, "exit-gateway") == 0)
		*out = NFT_GATEWAY_EXIT;
	else
		return -EINVAL;
	return 0;
}

const char *gateway_config_mode_name(enum nft_gateway_mode mode)
{
	switch (mode) {
	case NFT_GATEWAY_MIXNODE:
		return "mixnode";
	case NFT_GATEWAY_ENTRY:
		return "entry-gateway";
	case NFT_GATEWAY_EXIT:
		break;
	}
	return "exit-gateway";
}

bool gateway_config_ifname_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= NFT_IFNAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-' || c == '@'))
			return false;
	}
	return true;
}

/* ---- reading the file (lib/conf) ---- */

static int parse_port_value(const char *key, const char *s, uint16_t *out, char msg[CONF_ERROR_MAX])
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > 65535 || s[0] == '-' || s[0] == '+') {
		snprintf(msg, CONF_ERROR_MAX, "%s: expected a port number 1-65535, got '%.60s'", key, s);
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_ifname(const char *key, const char *s, bool allow_auto, char *out, char msg[CONF_ERROR_MAX])
{
	if (!gateway_config_ifname_valid(s)) {
		snprintf(msg, CONF_ERROR_MAX, "%s: expected %s, got '%.60s'", key,
			 allow_auto ? "an interface name (1-15 characters), auto or none"
				    : "an interface name (1-15 characters of letters, digits, _ . - @)",
			 s);
		return -EINVAL;
	}
	snprintf(out, NFT_IFNAME_LEN, "%s", s);
	return 0;
}

/* "ADDR/PREFIX" of the given family (4 or 6); host bits must be clear. */
static int parse_prefix(const char *s, int family, uint8_t *addr, uint8_t *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	unsigned max = family == 4 ? 32 : 128;
	unsigned long p = max;
	if (slash) {
		*slash = '\0';
		char *end;
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || p > max)
			return -EINVAL;
	}
	memset(addr, 0, 16);
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, buf, addr) != 1)
		return -EINVAL;
	size_t n = family == 4 ? 4 : 16;
	for (size_t i = 0; i < n; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t host = p >= bit0 + 8 ? 0 : p <= bit0 ? 0xff : (uint8_t)(0xff >> (p - bit0));
		if (addr[i] & host)
			return -EINVAL;
	}
	*prefix = (uint8_t)p;
	return 0;
}

#define FIELD(k, target, type) ((type *)((char *)(target) + (k)->offset))

static int read_mode(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	if (gateway_config_mode_parse(s, FIELD(k, target, enum nft_gateway_mode)) == 0)
		return 0;
	snprintf(msg, CONF_ERROR_MAX, "mode: expected mixnode, entry-gateway or exit-gateway, got '%.60s'", s);
	return -EINVAL;
}

static int read_policy(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	(void)k;
	if (!*s || strlen(s) >= sizeof(cfg->policy)) {
		snprintf(msg, CONF_ERROR_MAX, "policy: expected a file name");
		return -EINVAL;
	}
	snprintf(cfg->policy, sizeof(cfg->policy), "%s", s);
	return 0;
}

/* uplink sets both families; uplink_v4 and uplink_v6 one each. */
static int read_uplink(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	char name[NFT_IFNAME_LEN];
	int rc = parse_ifname(k->path, s, true, name, msg);
	if (rc)
		return rc;
	if (strcmp(k->path, "uplink_v6") != 0)
		snprintf(cfg->uplink_v4, sizeof(cfg->uplink_v4), "%s", name);
	if (strcmp(k->path, "uplink_v4") != 0)
		snprintf(cfg->uplink_v6, sizeof(cfg->uplink_v6), "%s", name);
	return 0;
}

static int read_ifname(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	return parse_ifname(k->path, s, false, FIELD(k, target, char), msg);
}

static int read_port(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	return parse_port_value(k->path, s, FIELD(k, target, uint16_t), msg);
}

/* Only the four lowercase words: a host firewall is not switched off by a typo. */
static int read_bool(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	bool *out = FIELD(k, target, bool);
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = false;
	else {
		snprintf(msg, CONF_ERROR_MAX, "%s: expected true or false, got '%.60s'", k->path, s);
		return -EINVAL;
	}
	return 0;
}

static int read_port_item(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	struct nft_gateway_ports *p = FIELD(k, target, struct nft_gateway_ports);
	if (!s) {
		p->n = 0;
		return 0;
	}
	if (p->n == NFT_GATEWAY_MAX_PORTS) {
		snprintf(msg, CONF_ERROR_MAX, "%s: at most %d ports", k->path, NFT_GATEWAY_MAX_PORTS);
		return -EINVAL;
	}
	int rc = parse_port_value(k->path, s, &p->port[p->n], msg);
	if (rc == 0)
		p->n++;
	return rc;
}

static int read_entry_gateway(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	if (!s) {
		cfg->n_entry_gateways = 0;
		return 0;
	}
	if (cfg->n_entry_gateways == GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS) {
		snprintf(msg, CONF_ERROR_MAX, "%s: at most %d", k->path, GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS);
		return -EINVAL;
	}
	struct gateway_config_entry_dest *g = &cfg->entry_gateways[cfg->n_entry_gateways];
	g->family = strchr(s, ':') ? 6 : 4;
	if (parse_prefix(s, g->family, g->addr, &g->prefix)) {
		snprintf(msg, CONF_ERROR_MAX, "%s: expected an IPv4 or IPv6 address or subnet, got '%.60s'", k->path, s);
		return -EINVAL;
	}
	cfg->n_entry_gateways++;
	return 0;
}

static int read_entry_port(const struct conf_key *k, void *target, const char *s, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	if (!s) {
		cfg->n_entry_ports = 0;
		return 0;
	}
	if (cfg->n_entry_ports == GATEWAY_CONFIG_MAX_ENTRY_PORTS) {
		snprintf(msg, CONF_ERROR_MAX, "%s: at most %d", k->path, GATEWAY_CONFIG_MAX_ENTRY_PORTS);
		return -EINVAL;
	}
	unsigned port;
	char proto[8];
	int off = 0;
	if (sscanf(s, "%5u/%3[a-z]%n", &port, proto, &off) != 2 || s[off] || port < 1 || port > 65535 ||
	    (strcmp(proto, "udp") != 0 && strcmp(proto, "tcp") != 0)) {
		snprintf(msg, CONF_ERROR_MAX, "%s: expected PORT/udp or PORT/tcp, got '%.60s'", k->path, s);
		return -EINVAL;
	}
	cfg->entry_ports[cfg->n_entry_ports++] = (struct gateway_config_entry_port){ (uint16_t)port, proto[0] == 'u' };
	return 0;
}

/* tunnels: the entry being read is tunnels[n_tunnels], counted once complete. */
static int tunnels_begin(void *target, char msg[CONF_ERROR_MAX])
{
	(void)msg;
	((struct gateway_config *)target)->n_tunnels = 0;
	return 0;
}

static int tunnel_entry(void *target, const char *name, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	if (cfg->n_tunnels == NFT_GATEWAY_MAX_TUNNELS) {
		snprintf(msg, CONF_ERROR_MAX, "tunnels: at most %d interfaces", NFT_GATEWAY_MAX_TUNNELS);
		return -EINVAL;
	}
	struct nft_gateway_tunnel *t = &cfg->tunnels[cfg->n_tunnels];
	memset(t, 0, sizeof(*t));
	int rc = parse_ifname("tunnels", name, false, t->ifname, msg);
	if (rc)
		return rc;
	for (size_t i = 0; i < cfg->n_tunnels; i++)
		if (strcmp(cfg->tunnels[i].ifname, t->ifname) == 0) {
			snprintf(msg, CONF_ERROR_MAX, "tunnels: interface '%s' given twice", t->ifname);
			return -EINVAL;
		}
	return 0;
}

static int tunnel_field(void *target, const char *name, const char *field, const char *s, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	struct nft_gateway_tunnel *t = &cfg->tunnels[cfg->n_tunnels];
	bool v6 = strcmp(field, "ipv6") == 0;
	if (!v6 && strcmp(field, "ipv4") != 0)
		return -ENOENT;
	if (parse_prefix(s, v6 ? 6 : 4, v6 ? t->v6 : t->v4, v6 ? &t->v6_prefix : &t->v4_prefix)) {
		snprintf(msg, CONF_ERROR_MAX, "tunnels.%.20s.%s: expected %s, got '%.60s'", name, field,
			 v6 ? "an IPv6 subnet such as fc01::/112" : "an IPv4 subnet such as 10.1.0.0/16", s);
		return -EINVAL;
	}
	*(v6 ? &t->has_v6 : &t->has_v4) = true;
	return 0;
}

static int tunnel_end(void *target, const char *name, char msg[CONF_ERROR_MAX])
{
	struct gateway_config *cfg = target;
	const struct nft_gateway_tunnel *t = &cfg->tunnels[cfg->n_tunnels];
	if (!t->has_v4 && !t->has_v6) {
		snprintf(msg, CONF_ERROR_MAX, "tunnels.%.20s: expected ipv4 and/or ipv6", name);
		return -EINVAL;
	}
	cfg->n_tunnels++;
	return 0;
}

static int tunnels_end(void *target, char msg[CONF_ERROR_MAX])
{
	if (((struct gateway_config *)target)->n_tunnels)
		return 0;
	snprintf(msg, CONF_ERROR_MAX, "tunnels: expected at least one interface");
	return -EINVAL;
}

static const struct conf_entries tunnels = { "ipv4, ipv6", tunnels_begin, tunnel_entry, tunnel_field, tunnel_end,
					     tunnels_end };

#define F(x) offsetof(struct gateway_config, x)
/* Defaults come from gateway_config_defaults; packaging/ntm.yaml documents every key. */
static const struct conf_key schema[] = {
	{ "mode", CONF_CUSTOM, F(mode), NULL, NULL, 0, 0 },
	{ "policy", CONF_CUSTOM, F(policy), NULL, NULL, 0, 0 },
	{ "uplink", CONF_CUSTOM, 0, NULL, NULL, 0, 0 },
	{ "uplink_v4", CONF_CUSTOM, 0, NULL, NULL, 0, 0 },
	{ "uplink_v6", CONF_CUSTOM, 0, NULL, NULL, 0, 0 },
	{ "ssh_port", CONF_CUSTOM, F(ssh_port), NULL, NULL, 0, 0 },
	{ "host_firewall", CONF_CUSTOM, F(host_firewall), NULL, NULL, 0, 0 },
	{ "flow_offload", CONF_CUSTOM, F(flow_offload), NULL, NULL, 0, 0 },
	{ "tunnels", CONF_ENTRIES, 0, NULL, NULL, 0, 0 },
	{ "wireguard_interface", CONF_CUSTOM, F(wireguard_interface), NULL, NULL, 0, 0 },
	{ "ports", CONF_SECTION, 0, NULL, NULL, 0, 0 },
	{ "ports.tcp", CONF_CUSTOM_LIST, F(tcp), NULL, NULL, 0, 0 },
	{ "ports.udp", CONF_CUSTOM_LIST, F(udp), NULL, NULL, 0, 0 },
	{ "ports.gateway_tcp", CONF_CUSTOM_LIST, F(gateway_tcp), NULL, NULL, 0, 0 },
	{ "ports.gateway_udp", CONF_CUSTOM_LIST, F(gateway_udp), NULL, NULL, 0, 0 },
	{ "ports.wireguard_tcp", CONF_CUSTOM_LIST, F(wireguard_tcp), NULL, NULL, 0, 0 },
	{ "entry_gateway", CONF_SECTION, 0, NULL, NULL, 0, 0 },
	{ "entry_gateway.gateways", CONF_CUSTOM_LIST, 0, NULL, NULL, 0, 0 },
	{ "entry_gateway.ports", CONF_CUSTOM_LIST, 0, NULL, NULL, 0, 0 },
	{ 0 },
};

#define PORTS "a list of port numbers, e.g. [80, 443]"
static const struct conf_custom readers[] = {
	{ "mode", "mixnode, entry-gateway or exit-gateway", read_mode, NULL },
	{ "policy", "a file name", read_policy, NULL },
	{ "uplink", "an interface name, auto or none", read_uplink, NULL },
	{ "uplink_v4", "an interface name, auto or none", read_uplink, NULL },
	{ "uplink_v6", "an interface name, auto or none", read_uplink, NULL },
	{ "ssh_port", "a port number 1-65535", read_port, NULL },
	{ "host_firewall", "true or false", read_bool, NULL },
	{ "flow_offload", "true or false", read_bool, NULL },
	{ "tunnels", "a mapping of interface names, e.g. nymwg: {ipv4: 10.1.0.0/16, ipv6: fc01::/112}", NULL,
	  &tunnels },
	{ "wireguard_interface", "an interface name", read_ifname, NULL },
	{ "ports.tcp", PORTS, read_port_item, NULL },
	{ "ports.udp", PORTS, read_port_item, NULL },
	{ "ports.gateway_tcp", PORTS, read_port_item, NULL },
	{ "ports.gateway_udp", PORTS, read_port_item, NULL },
	{ "ports.wireguard_tcp", PORTS, read_port_item, NULL },
	{ "entry_gateway.gateways", "a list of addresses or subnets", read_entry_gateway, NULL },
	{ "entry_gateway.ports", "a list of PORT/udp or PORT/tcp", read_entry_port, NULL },
	{ 0 },
};

int gateway_config_parse(struct gateway_config *cfg, const char *text, size_t len,
			 struct gateway_config_error *err)
{
	static struct gateway_config work; /* 6 KiB; the caller's stays untouched on error */
	struct conf_error e;
	memset(err, 0, sizeof(*err));
	work = *cfg;
	int rc = conf_parse_over(text, len, schema, readers, &work, &e);
	if (rc == 0)
		*cfg = work;
	err->line = e.line;
	err->column = e.column;
	memcpy(err->message, e.message, sizeof(err->message));
	return rc;
}
