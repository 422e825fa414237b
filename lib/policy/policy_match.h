/* The reference matcher: walks the entries in order, first match wins (Tor's semantics). It
 * defines what a policy means; the compiled form (policy_compile.h) answers the same
 * question in logarithmic time and is checked against this one. */
#ifndef NYM_POLICY_POLICY_MATCH_H
#define NYM_POLICY_POLICY_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

/* No entry matched: the policy ends with an implicit reject. */
#define POLICY_NO_ENTRY UINT32_MAX

struct policy_addr {
	uint8_t family; /* POLICY_FAMILY_V4 or POLICY_FAMILY_V6 */
	uint8_t bytes[16]; /* network order; IPv4 in bytes[0..3] */
};

struct policy_verdict {
	bool accept;
	uint32_t entry; /* index into policy.entries, or POLICY_NO_ENTRY */
};

/* Parses "a.b.c.d" or an IPv6 address (brackets optional). Returns 0 or -EINVAL. */
int policy_addr_parse(const char *s, struct policy_addr *out);

/* True when rule r's address block contains a (same family). */
bool policy_rule_contains(const struct policy_rule *r, const struct policy_addr *a);

/* Decides ADDR:PORT/PROTO (port is ignored for ICMP and OTHER). Linear in the policy size;
 * use the compiled form on packet paths. */
void policy_match(const struct policy *p, const struct policy_addr *dst, enum policy_proto proto,
		  uint16_t port, struct policy_verdict *out);

/* DNS and ping through the exit (Nym's exit chain accepts them before its port list):
 * TCP or UDP to port 53, and ICMP echo requests, pass to every address the policy does not
 * reject by network, whatever its port list says. An address is rejected by network when,
 * walking the entries that contain it in order, a reject of every port (ports `*` or
 * 1-65535, TCP and UDP alike: no protocol word, or none narrower) comes before any accept.
 * An address that no accept and no such reject contains meets the implicit reject at the
 * end, which rejects every port: it is rejected by network too. The exit's IP packet router
 * and nym-ntm's table apply the same rule (PROTOCOLS.md 4.1). */
bool policy_dns_icmp_class(enum policy_proto proto, uint16_t port);

/* True when the entry is a reject of every port (what "by network" means above). */
bool policy_entry_rejects_network(const struct policy_entry *e);

/* The reference answer for dst: linear in the policy size. */
bool policy_network_rejected(const struct policy *p, const struct policy_addr *dst);

#endif
