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

#endif
