/* Policy routing for a full tunnel, as wg-quick and NymVPN set it up: a routing table with a
 * default route through the tunnel device and, per address family, two rules:
 *   32764: from all lookup main suppress_prefixlength 0   (main's specific routes still win)
 *   32765: not from all fwmark M lookup T                (everything unmarked takes the tunnel)
 * Sockets carrying the mark (the gateway link) keep using main's default route. Everything
 * over rtnetlink (libmnl); returns 0 or -errno. */
#ifndef NYM_NETLINK_NL_POLICY_H
#define NYM_NETLINK_NL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NL_POLICY_PRIO_SUPPRESS 32764u
#define NL_POLICY_PRIO_FWMARK 32765u

struct nl_policy_routing {
	const char *ifname; /* the tunnel device; must exist */
	uint32_t table;	    /* 1..2^32-1, not main / local / default */
	uint32_t fwmark;    /* non-zero */
	bool ipv4, ipv6;
};

/* Default routes via ifname in `table` (v4 and/or v6) and the two rules per enabled family.
 * Idempotent: rules of ours already there are kept, duplicates and stale ones (same mark, an
 * older table) removed, never duplicated. A family that is not enabled has its rules removed
 * and its routes in `table` flushed. -ENODEV: no such device; -EINVAL: bad arguments. */
int nl_policy_up(const struct nl_policy_routing *r);

/* Removes both rules (both families) and flushes `table`; absent things are fine. */
int nl_policy_down(uint32_t table, uint32_t fwmark);

/* Connected prefixes: routes of the main table without a gateway (scope link for IPv4) of
 * every interface but `except` (NULL: none), each prefix once. family AF_INET or AF_INET6.
 * Fills up to cap; -ENOSPC (with *n = cap) when there are more. */
struct nl_policy_prefix {
	int family;
	uint8_t addr[16];
	uint8_t prefix;
};
int nl_policy_onlink_prefixes(int family, const char *except, struct nl_policy_prefix *out, size_t cap,
			      size_t *n);

#endif
