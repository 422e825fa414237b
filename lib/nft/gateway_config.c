#include "nft/gateway_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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
	/* An entry gateway forwards WireGuard and the Lewes Protocol (registration) only. */
	cfg->entry_ports[0] = (struct gateway_config_entry_port){ 51822, true };
	cfg->entry_ports[1] = (struct gateway_config_entry_port){ 41264, false };
	cfg->entry_ports[2] = (struct gateway_config_entry_port){ 51264, true };
	cfg->n_entry_ports = 3;
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

/* ---- YAML ---- */

struct loader {
	yaml_document_t *doc;
	struct gateway_config *cfg;
	struct gateway_config_error *err;
};

static int bad(struct loader *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	l->err->line = (uint32_t)n->start_mark.line + 1;
	l->err->column = (uint32_t)n->start_mark.column + 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err->message, sizeof(l->err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int want_scalar(struct loader *l, const yaml_node_t *n, const char *key, const char *expected,
		       const char **out)
{
	if (!(*out = scalar(n)))
		return bad(l, n, "%s: expected %s", key, expected);
	return 0;
}

static int parse_port_value(struct loader *l, const yaml_node_t *n, const char *key, uint16_t *out)
{
	const char *s;
	int rc = want_scalar(l, n, key, "a port number 1-65535", &s);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > 65535 || s[0] == '-' || s[0] == '+')
		return bad(l, n, "%s: expected a port number 1-65535, got '%s'", key, s);
	*out = (uint16_t)v;
	return 0;
}

static int parse_bool(struct loader *l, const yaml_node_t *n, const char *key, bool *out)
{
	const char *s;
	int rc = want_scalar(l, n, key, "true or false", &s);
	if (rc)
		return rc;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = false;
	else
		return bad(l, n, "%s: expected true or false, got '%s'", key, s);
	return 0;
}

static int parse_ifname(struct loader *l, const yaml_node_t *n, const char *key, bool allow_auto, char *out)
{
	const char *s;
	int rc = want_scalar(l, n, key, allow_auto ? "an interface name, auto or none" : "an interface name", &s);
	if (rc)
		return rc;
	if (!gateway_config_ifname_valid(s))
		return bad(l, n, "%s: expected %s, got '%s'", key,
			   allow_auto ? "an interface name (1-15 characters), auto or none"
				      : "an interface name (1-15 characters of letters, digits, _ . - @)",
			   s);
	snprintf(out, NFT_IFNAME_LEN, "%s", s);
	return 0;
}

static int parse_port_list(struct loader *l, const yaml_node_t *n, const char *key, struct nft_gateway_ports *out)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(l, n, "%s: expected a list of port numbers, e.g. [80, 443]", key);
	out->n = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const yaml_node_t *item = yaml_document_get_node(l->doc, *it);
		if (out->n == NFT_GATEWAY_MAX_PORTS)
			return bad(l, item, "%s: at most %d ports", key, NFT_GATEWAY_MAX_PORTS);
		int rc = parse_port_value(l, item, key, &out->port[out->n]);
		if (rc)
			return rc;
		out->n++;
	}
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

/* Finds the key of `pair` (a pair of mapping `map`) in keys[]; an unknown or repeated key
 * is an error naming the file position. */
static int lookup_key(struct loader *l, const yaml_node_t *map, const yaml_node_pair_t *pair,
		      const char *const *keys, const char *where, const char **key, const yaml_node_t **value)
{
	const yaml_node_t *k = yaml_document_get_node(l->doc, pair->key);
	*value = yaml_document_get_node(l->doc, pair->value);
	const char *s = scalar(k);
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; s && q < pair; q++) {
		const char *prev = scalar(yaml_document_get_node(l->doc, q->key));
		if (prev && strcmp(prev, s) == 0)
			return bad(l, k, "key '%s'%s given twice", s, where);
	}
	if (s)
		for (size_t i = 0; keys[i]; i++)
			if (strcmp(s, keys[i]) == 0) {
				*key = keys[i];
				return 0;
			}
	char list[400] = "";
	size_t off = 0;
	for (size_t i = 0; keys[i] && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", keys[i]);
	return bad(l, k, "unknown key '%s'%s (expected one of: %s)", s ? s : "?", where, list);
}

static int parse_tunnels(struct loader *l, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "tunnels: expected a mapping of interface names, e.g. nymwg: {ipv4: 10.1.0.0/16, ipv6: fc01::/112}");
	static const char *const keys[] = { "ipv4", "ipv6", NULL };
	struct gateway_config *cfg = l->cfg;
	cfg->n_tunnels = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		if (cfg->n_tunnels == NFT_GATEWAY_MAX_TUNNELS)
			return bad(l, k, "tunnels: at most %d interfaces", NFT_GATEWAY_MAX_TUNNELS);
		struct nft_gateway_tunnel *t = &cfg->tunnels[cfg->n_tunnels];
		memset(t, 0, sizeof(*t));
		int rc = parse_ifname(l, k, "tunnels", false, t->ifname);
		if (rc)
			return rc;
		for (size_t i = 0; i < cfg->n_tunnels; i++)
			if (strcmp(cfg->tunnels[i].ifname, t->ifname) == 0)
				return bad(l, k, "tunnels: interface '%s' given twice", t->ifname);
		if (v->type != YAML_MAPPING_NODE)
			return bad(l, v, "tunnels.%s: expected a mapping with ipv4 and/or ipv6", t->ifname);
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
			const char *key;
			const yaml_node_t *val;
			char where[64];
			snprintf(where, sizeof(where), " in tunnels.%s", t->ifname);
			if ((rc = lookup_key(l, v, q, keys, where, &key, &val)))
				return rc;
			const char *s;
			bool v6 = key[3] == '6';
			if ((rc = want_scalar(l, val, key, v6 ? "an IPv6 subnet such as fc01::/112" : "an IPv4 subnet such as 10.1.0.0/16", &s)))
				return rc;
			if (parse_prefix(s, v6 ? 6 : 4, v6 ? t->v6 : t->v4, v6 ? &t->v6_prefix : &t->v4_prefix))
				return bad(l, val, "tunnels.%s.%s: expected %s, got '%s'", t->ifname, key,
					   v6 ? "an IPv6 subnet such as fc01::/112" : "an IPv4 subnet such as 10.1.0.0/16", s);
			*(v6 ? &t->has_v6 : &t->has_v4) = true;
		}
		if (!t->has_v4 && !t->has_v6)
			return bad(l, v, "tunnels.%s: expected ipv4 and/or ipv6", t->ifname);
		cfg->n_tunnels++;
	}
	if (cfg->n_tunnels == 0)
		return bad(l, n, "tunnels: expected at least one interface");
	return 0;
}

static int parse_ports(struct loader *l, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "ports: expected a mapping (tcp, udp, gateway_tcp, gateway_udp, wireguard_tcp)");
	static const char *const keys[] = { "tcp", "udp", "gateway_tcp", "gateway_udp", "wireguard_tcp", NULL };
	struct gateway_config *cfg = l->cfg;
	struct nft_gateway_ports *dst[] = { &cfg->tcp, &cfg->udp, &cfg->gateway_tcp, &cfg->gateway_udp, &cfg->wireguard_tcp };
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *key;
		const yaml_node_t *v;
		int rc = lookup_key(l, n, p, keys, " in ports", &key, &v);
		if (rc)
			return rc;
		size_t i = 0;
		while (strcmp(keys[i], key) != 0)
			i++;
		if ((rc = parse_port_list(l, v, key, dst[i])))
			return rc;
	}
	return 0;
}

static int parse_entry(struct loader *l, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "entry_gateway: expected a mapping (gateways, ports)");
	static const char *const keys[] = { "gateways", "ports", NULL };
	struct gateway_config *cfg = l->cfg;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *key;
		const yaml_node_t *v;
		int rc = lookup_key(l, n, p, keys, " in entry_gateway", &key, &v);
		if (rc)
			return rc;
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(l, v, "entry_gateway.%s: expected a list", key);
		bool gw = strcmp(key, "gateways") == 0;
		if (gw)
			cfg->n_entry_gateways = 0;
		else
			cfg->n_entry_ports = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			const yaml_node_t *item = yaml_document_get_node(l->doc, *it);
			const char *s;
			if (gw) {
				if ((rc = want_scalar(l, item, "entry_gateway.gateways", "an address or subnet", &s)))
					return rc;
				if (cfg->n_entry_gateways == GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS)
					return bad(l, item, "entry_gateway.gateways: at most %d", GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS);
				struct gateway_config_entry_dest *g = &cfg->entry_gateways[cfg->n_entry_gateways];
				g->family = strchr(s, ':') ? 6 : 4;
				if (parse_prefix(s, g->family, g->addr, &g->prefix))
					return bad(l, item, "entry_gateway.gateways: expected an IPv4 or IPv6 address or subnet, got '%s'", s);
				cfg->n_entry_gateways++;
			} else {
				if ((rc = want_scalar(l, item, "entry_gateway.ports", "PORT/udp or PORT/tcp", &s)))
					return rc;
				if (cfg->n_entry_ports == GATEWAY_CONFIG_MAX_ENTRY_PORTS)
					return bad(l, item, "entry_gateway.ports: at most %d", GATEWAY_CONFIG_MAX_ENTRY_PORTS);
				unsigned port;
				char proto[8];
				int off = 0;
				if (sscanf(s, "%5u/%3[a-z]%n", &port, proto, &off) != 2 || s[off] || port < 1 || port > 65535 ||
				    (strcmp(proto, "udp") != 0 && strcmp(proto, "tcp") != 0))
					return bad(l, item, "entry_gateway.ports: expected PORT/udp or PORT/tcp, got '%s'", s);
				cfg->entry_ports[cfg->n_entry_ports++] = (struct gateway_config_entry_port){ (uint16_t)port, proto[0] == 'u' };
			}
		}
	}
	return 0;
}

static int parse_root(struct loader *l, const yaml_node_t *root)
{
	static const char *const keys[] = { "mode",	     "policy", "uplink",	  "uplink_v4",
					    "uplink_v6",     "ssh_port", "host_firewall", "flow_offload", "tunnels",
					    "wireguard_interface", "ports", "entry_gateway", NULL };
	if (root->type != YAML_MAPPING_NODE)
		return bad(l, root, "expected a mapping of settings (mode, policy, uplink, ...)");
	struct gateway_config *cfg = l->cfg;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *key, *s;
		const yaml_node_t *v;
		int rc = lookup_key(l, root, p, keys, "", &key, &v);
		if (rc)
			return rc;
		if (strcmp(key, "mode") == 0) {
			if ((rc = want_scalar(l, v, key, "mixnode, entry-gateway or exit-gateway", &s)))
				return rc;
			if (gateway_config_mode_parse(s, &cfg->mode))
				return bad(l, v, "mode: expected mixnode, entry-gateway or exit-gateway, got '%s'", s);
		} else if (strcmp(key, "policy") == 0) {
			if ((rc = want_scalar(l, v, key, "a file name", &s)))
				return rc;
			if (!*s || strlen(s) >= sizeof(cfg->policy))
				return bad(l, v, "policy: expected a file name");
			snprintf(cfg->policy, sizeof(cfg->policy), "%s", s);
		} else if (strncmp(key, "uplink", 6) == 0) {
			char name[NFT_IFNAME_LEN];
			if ((rc = parse_ifname(l, v, key, true, name)))
				return rc;
			if (strcmp(key, "uplink_v6") != 0)
				snprintf(cfg->uplink_v4, sizeof(cfg->uplink_v4), "%s", name);
			if (strcmp(key, "uplink_v4") != 0)
				snprintf(cfg->uplink_v6, sizeof(cfg->uplink_v6), "%s", name);
		} else if (strcmp(key, "ssh_port") == 0) {
			if ((rc = parse_port_value(l, v, key, &cfg->ssh_port)))
				return rc;
		} else if (strcmp(key, "host_firewall") == 0) {
			if ((rc = parse_bool(l, v, key, &cfg->host_firewall)))
				return rc;
		} else if (strcmp(key, "flow_offload") == 0) {
			if ((rc = parse_bool(l, v, key, &cfg->flow_offload)))
				return rc;
		} else if (strcmp(key, "tunnels") == 0) {
			if ((rc = parse_tunnels(l, v)))
				return rc;
		} else if (strcmp(key, "wireguard_interface") == 0) {
			if ((rc = parse_ifname(l, v, key, false, cfg->wireguard_interface)))
				return rc;
		} else if (strcmp(key, "ports") == 0) {
			if ((rc = parse_ports(l, v)))
				return rc;
		} else if ((rc = parse_entry(l, v))) {
			return rc;
		}
	}
	return 0;
}

int gateway_config_parse(struct gateway_config *cfg, const char *text, size_t len,
			 struct gateway_config_error *err)
{
	memset(err, 0, sizeof(*err));
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int rc = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
		err->line = (uint32_t)parser.problem_mark.line + 1;
		err->column = (uint32_t)parser.problem_mark.column + 1;
		snprintf(err->message, sizeof(err->message), "%s%s%s",
			 parser.problem ? parser.problem : "YAML syntax error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	int rc = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root) { /* an empty document keeps every default */
		struct gateway_config work = *cfg;
		struct loader l = { .doc = &doc, .cfg = &work, .err = err };
		rc = parse_root(&l, root);
		if (rc == 0)
			*cfg = work;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
