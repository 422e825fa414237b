/* A policy compiled into interval sets: the address space of each family is cut into
 * disjoint ranges, each pointing at a group; a group says, for each traffic class, which
 * entry decides (TCP and UDP by disjoint port ranges). Address ranges that behave the same
 * share a group, so Nym's policy becomes one group for "the internet" plus one per rejected
 * network.
 *
 * A lookup is two binary searches, whatever the policy size, and allocates nothing: this is
 * the matcher for packet paths (the IP packet router), and the data that the nftables layer
 * turns into interval maps. */
#ifndef NYM_POLICY_POLICY_COMPILE_H
#define NYM_POLICY_POLICY_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/policy_match.h"

struct policy_port_range {
	uint16_t lo, hi;
	uint32_t entry; /* or POLICY_NO_ENTRY */
};

/* ports_off/ports_len index policy_compiled.ports: index 0 is TCP, 1 is UDP. The ranges of
 * one protocol are sorted, disjoint and cover 0-65535. */
struct policy_group {
	uint32_t ports_off[2];
	uint32_t ports_len[2];
	uint32_t icmp_entry;
	uint32_t other_entry;
};

struct policy_v4_range {
	uint32_t lo, hi; /* host order */
	uint32_t group;
};

struct policy_v6_range {
	uint8_t lo[16], hi[16];
	uint32_t group;
};

/* An address range (host order for IPv4) in the lists of addresses not rejected by network. */
struct policy_v4_span {
	uint32_t lo, hi;
};

struct policy_v6_span {
	uint8_t lo[16], hi[16];
};

struct policy_compiled {
	struct policy_v4_range *v4; /* sorted, disjoint, covering the whole space */
	size_t n_v4;
	struct policy_v6_range *v6;
	size_t n_v6;
	struct policy_group *groups;
	size_t n_groups;
	struct policy_port_range *ports;
	size_t n_ports;
	uint8_t *entry_action; /* enum policy_action of each entry */
	size_t n_entries;
	/* The addresses not rejected by network (policy_match.h: DNS and ping pass to them),
	 * sorted, disjoint, neighbours merged; gaps are the networks rejected whole. */
	struct policy_v4_span *open_v4;
	size_t n_open_v4;
	struct policy_v6_span *open_v6;
	size_t n_open_v6;
};

/* Compiles p. Returns 0 or -ENOMEM. Free with policy_compiled_free. */
int policy_compile(const struct policy *p, struct policy_compiled *out);

void policy_compiled_free(struct policy_compiled *c);

/* Same answer as policy_match() on the source policy. */
void policy_compiled_lookup(const struct policy_compiled *c, const struct policy_addr *dst,
			    enum policy_proto proto, uint16_t port, struct policy_verdict *out);

/* Same answer as policy_network_rejected() on the source policy. */
bool policy_compiled_network_rejected(const struct policy_compiled *c, const struct policy_addr *dst);

/* The verdict the exit enforces: the policy's, except that DNS and ping to an address not
 * rejected by network pass (*exempt set; out->entry stays the policy's own). */
void policy_compiled_decide(const struct policy_compiled *c, const struct policy_addr *dst,
			    enum policy_proto proto, uint16_t port, struct policy_verdict *out, bool *exempt);

/* True when every class and port of group g is decided by one entry (stored in *entry). */
bool policy_group_uniform(const struct policy_compiled *c, const struct policy_group *g,
			  uint32_t *entry);

/* True when every port of protocol slot `slot` (0 TCP, 1 UDP) of g goes to one entry. */
bool policy_group_ports_uniform(const struct policy_compiled *c, const struct policy_group *g,
				int slot, uint32_t *entry);

/* Marks used[e] for every entry that decides at least one address, class and port (used has
 * n_entries slots). An entry left false is shadowed by earlier ones: dead text. */
void policy_compiled_used(const struct policy_compiled *c, bool *used);

#endif
