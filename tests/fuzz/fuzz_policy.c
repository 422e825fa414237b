/* Policy parser: any byte string either parses or fails with a position inside the input;
 * a parsed policy of modest size compiles, and the compiled lookup agrees with the reference
 * matcher at every address and port boundary the policy names. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"
#include "policy/policy_match.h"

static void check_point(const struct policy *p, const struct policy_compiled *c,
			const struct policy_addr *a, uint16_t port)
{
	for (int proto = 0; proto < POLICY_PROTO_COUNT; proto++) {
		struct policy_verdict x, y;
		policy_match(p, a, (enum policy_proto)proto, port, &x);
		policy_compiled_lookup(c, a, (enum policy_proto)proto, port, &y);
		if (x.entry != y.entry || x.accept != y.accept)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	struct policy_error err;
	int rc = policy_parse((const char *)data, size, &p, &err);
	if (rc) {
		if (err.line == 0 || err.column == 0 || err.message[0] == '\0')
			abort();
		return 0;
	}
	for (size_t i = 0; i < p.n_entries; i++)
		if (p.entries[i].port_lo > p.entries[i].port_hi || !memchr(p.entries[i].text, '\0', sizeof(p.entries[i].text)))
			abort();
	if (p.n_rules <= 64) {
		struct policy_compiled c;
		if (policy_compile(&p, &c) == 0) {
			for (size_t i = 0; i < p.n_rules; i++) {
				const struct policy_rule *r = &p.rules[i];
				const struct policy_entry *e = &p.entries[r->entry];
				struct policy_addr a = { .family = r->family };
				memcpy(a.bytes, r->addr, sizeof(a.bytes));
				uint16_t ports[] = { e->port_lo, e->port_hi, (uint16_t)(e->port_lo - 1),
						     (uint16_t)(e->port_hi + 1) };
				for (int k = 0; k < 4; k++)
					check_point(&p, &c, &a, ports[k]);
				/* The address just below the block. */
				for (int j = r->family == POLICY_FAMILY_V4 ? 3 : 15; j >= 0; j--)
					if (a.bytes[j]-- != 0)
						break;
				check_point(&p, &c, &a, e->port_lo);
			}
			policy_compiled_free(&c);
		}
	}
	policy_free(&p);
	return 0;
}
