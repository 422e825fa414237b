/* Exit policies in Tor's torrc syntax, as Nym publishes them:
 *
 *     ExitPolicy reject 5.188.10.0/23:*
 *     ExitPolicy accept *:80-81
 *     ExitPolicy accept6 [2001:db8::]/32:443
 *     ExitPolicy reject *:*
 *
 * The first entry that matches a destination decides (Tor's rule). The parser is a pure
 * function over a byte buffer; errors carry the line and column. docs/PROTOCOLS.md section 4
 * gives the grammar, including our extensions (a protocol word and a per-client rate limit
 * after the pattern) and every difference from Tor. */
#ifndef NYM_POLICY_POLICY_H
#define NYM_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_action {
	POLICY_ACCEPT = 0,
	POLICY_REJECT = 1,
};

/* The traffic classes a policy tells apart. ICMP means an ICMP or ICMPv6 echo request;
 * every other ICMP message (and every protocol but TCP and UDP) is OTHER. */
enum policy_proto {
	POLICY_PROTO_TCP = 0,
	POLICY_PROTO_UDP = 1,
	POLICY_PROTO_ICMP = 2,
	POLICY_PROTO_OTHER = 3,
	POLICY_PROTO_COUNT = 4,
};
#define POLICY_PROTO_BIT(p) (1u << (p))

/* An entry with port '*' and no protocol word matches every class; with a port or range it
 * matches TCP and UDP; a protocol word narrows it to that one class. */
#define POLICY_PROTOS_PORTS (POLICY_PROTO_BIT(POLICY_PROTO_TCP) | POLICY_PROTO_BIT(POLICY_PROTO_UDP))
#define POLICY_PROTOS_ALL ((1u << POLICY_PROTO_COUNT) - 1)

/* Per-client rate limit on new connections (token bucket: `burst` at once, refilled at
 * `rate` per `unit_s` seconds); connections beyond it are refused. */
struct policy_limit {
	uint32_t rate;   /* 0: no limit */
	uint32_t unit_s; /* 1, 60, 3600 or 86400 */
	uint32_t burst;
};

/* One item of the file: a line holds one or more, separated by commas. */
struct policy_entry {
	uint32_t line;   /* 1-based */
	uint32_t column; /* 1-based, of the action word */
	enum policy_action action;
	uint8_t protos; /* POLICY_PROTO_BIT set */
	uint16_t port_lo, port_hi;
	struct policy_limit limit;
	char text[128]; /* canonical form, e.g. "accept *:465 tcp limit 30/minute burst 60" */
};

enum policy_family {
	POLICY_FAMILY_V4 = 4,
	POLICY_FAMILY_V6 = 6,
};

/* One address block of an entry ("*" gives two: 0.0.0.0/0 and ::/0; "private" gives many).
 * IPv4 addresses use bytes[0..3]. */
struct policy_rule {
	uint32_t entry;
	uint8_t family;
	uint8_t prefix;
	uint8_t addr[16];
};

struct policy {
	struct policy_entry *entries;
	size_t n_entries;
	struct policy_rule *rules;
	size_t n_rules;
};

struct policy_error {
	uint32_t line;
	uint32_t column;
	char message[160];
};

/* Upper bound on entries, so that a hostile file cannot make compilation quadratic in
 * gigabytes; Nym's published policy has a few hundred. */
#define POLICY_MAX_ENTRIES 20000

/* Parses `len` bytes of policy text into *out (free with policy_free). An empty policy (only
 * comments) is valid and rejects everything. Returns 0, -EINVAL with *err filled in for a
 * syntax error, or -ENOMEM. */
int policy_parse(const char *text, size_t len, struct policy *out, struct policy_error *err);

void policy_free(struct policy *p);

/* "tcp", "udp", "icmp", "other". */
const char *policy_proto_name(enum policy_proto proto);

#endif
