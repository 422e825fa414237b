#include "policy/policy_match.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

int policy_addr_parse(const char *s, struct policy_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	memset(out, 0, sizeof(*out));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, out->bytes) == 1) {
		out->family = POLICY_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
		out->family = POLICY_FAMILY_V6;
		return 0;
	}
	return -EINVAL;
}

bool policy_rule_contains(const struct policy_rule *r, const struct policy_addr *a)
{
	if (r->family != a->family)
		return false;
	unsigned full = r->prefix / 8, rest = r->prefix % 8;
	if (memcmp(r->addr, a->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (r->addr[full] & mask) == (a->bytes[full] & mask);
}

void policy_match(const struct policy *p, const struct policy_addr *dst, enum policy_proto proto,
		  uint16_t port, struct policy_verdict *out)
{
	out->accept = false;
	out->entry = POLICY_NO_ENTRY;
	/* Rules are in entry order, so the first containing rule names the deciding entry. */
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		const struct policy_entry *e = &p->entries[r->entry];
		if (!(e->protos & POLICY_PROTO_BIT(proto)))
			continue;
		if ((proto == POLICY_PROTO_TCP || proto == POLICY_PROTO_UDP) &&
		    (port < e->port_lo || port > e->port_hi))
			continue;
		if (!policy_rule_contains(r, dst))
			continue;
		out->accept = e->action == POLICY_ACCEPT;
		out->entry = r->entry;
		return;
	}
}

bool policy_dns_icmp_class(enum policy_proto proto, uint16_t port)
{
	if (proto == POLICY_PROTO_ICMP)
		return true;
	return (proto == POLICY_PROTO_TCP || proto == POLICY_PROTO_UDP) && port == 53;
}

bool policy_entry_rejects_network(const struct policy_entry *e)
{
	return e->action == POLICY_REJECT && e->port_lo <= 1 && e->port_hi == 65535 &&
	       (e->protos & POLICY_PROTOS_PORTS) == POLICY_PROTOS_PORTS;
}

bool policy_network_rejected(const struct policy *p, const struct policy_addr *dst)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (!policy_rule_contains(r, dst))
			continue;
		const struct policy_entry *e = &p->entries[r->entry];
		if (e->action == POLICY_ACCEPT)
			return false;
		if (policy_entry_rejects_network(e))
			return true;
	}
	return true; /* the implicit reject at the end rejects every port */
}
