/* The gateway's pool of private WireGuard address pairs, as Nym's (common/wireguard ip_pool):
 * pair i is (IPv4 network + i, IPv6 network + i) of the two configured ranges (10.1.0.0/16
 * and fc01::/112 by default), i from 1 to the smaller range's size - 2 (the IPv4 network
 * and broadcast addresses are never handed out), without the gateway's own pair. A pair is
 * Free, PreAllocated (offered in a pending registration) or Allocated (a registered peer);
 * pre-allocation takes a uniformly random free pair. No time and no I/O: the owner decides
 * when a pre-allocation is stale and releases it. */
#ifndef NYM_GATEWAY_GATEWAY_WG_POOL_H
#define NYM_GATEWAY_GATEWAY_WG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "link/link_wg.h"

/* At most 2^16 pairs: Nym's /16 and /112. */
#define GATEWAY_WG_POOL_MAX (1u << 16)

enum gateway_wg_pair_state {
	GATEWAY_WG_PAIR_NONE = 0, /* not in the pool (network, broadcast, the gateway's own) */
	GATEWAY_WG_PAIR_FREE,
	GATEWAY_WG_PAIR_PREALLOCATED,
	GATEWAY_WG_PAIR_ALLOCATED,
};

struct gateway_wg_pool_config {
	uint8_t net4[4];
	uint8_t prefix4; /* 16..30 */
	uint8_t net6[16];
	uint8_t prefix6; /* 112..126 */
	uint8_t gateway4[4]; /* the gateway's own addresses: never handed out */
	uint8_t gateway6[16];
};

struct gateway_wg_pool {
	struct gateway_wg_pool_config cfg;
	uint32_t size; /* indexes 0..size-1 */
	uint8_t *state; /* enum gateway_wg_pair_state per index */
	uint32_t *free_list, *free_pos; /* free indexes; each free index's position in the list */
	uint32_t n_free, n_pre, n_alloc;
	const struct nym_rng *rng;
};

/* Nym's defaults: 10.1.0.0/16, fc01::/112, gateway 10.1.0.1 and fc01::1. */
void gateway_wg_pool_default_config(struct gateway_wg_pool_config *cfg);

/* Returns 0, -EINVAL (a prefix out of range, networks with host bits set, gateway addresses
 * outside the ranges) or -ENOMEM. rng NULL: nym_random. */
int gateway_wg_pool_init(struct gateway_wg_pool *p, const struct gateway_wg_pool_config *cfg,
			 const struct nym_rng *rng);
void gateway_wg_pool_free(struct gateway_wg_pool *p);

/* The pair of an index, and the index of a pair (-ENOENT when it is not one of the pool's,
 * v4 and v6 not at the same index included). */
void gateway_wg_pool_pair(const struct gateway_wg_pool *p, uint32_t index, struct link_wg_ips *out);
int gateway_wg_pool_index(const struct gateway_wg_pool *p, const struct link_wg_ips *ips, uint32_t *index);
/* The index whose IPv4 (family AF_INET, 4 bytes) or IPv6 (AF_INET6, 16 bytes) address is
 * addr; -ENOENT when none. */
int gateway_wg_pool_index_of(const struct gateway_wg_pool *p, int family, const uint8_t *addr, uint32_t *index);

enum gateway_wg_pair_state gateway_wg_pool_state(const struct gateway_wg_pool *p, uint32_t index);

/* Free -> PreAllocated, a random free pair. Returns 0 or -ENOSPC (none free). */
int gateway_wg_pool_preallocate(struct gateway_wg_pool *p, uint32_t *index);
/* PreAllocated -> Allocated; with claim_free also Free -> Allocated (restoring a stored peer).
 * Returns 0, -EALREADY (allocated already), -EBUSY (free, without claim_free) or -ENOENT. */
int gateway_wg_pool_allocate(struct gateway_wg_pool *p, uint32_t index, bool claim_free);
/* PreAllocated or Allocated -> Free. Returns 0 or -ENOENT (not in use, not in the pool). */
int gateway_wg_pool_release(struct gateway_wg_pool *p, uint32_t index);

/* Pairs in the pool, free, pre-allocated, allocated. */
void gateway_wg_pool_counts(const struct gateway_wg_pool *p, uint32_t *total, uint32_t *n_free, uint32_t *n_pre,
			    uint32_t *n_alloc);

/* Whether addr (AF_INET: 4 bytes, AF_INET6: 16) lies inside the pool's ranges, the gateway's
 * own address included: the in-tunnel metadata endpoint serves only these. */
bool gateway_wg_pool_contains(const struct gateway_wg_pool_config *cfg, int family, const uint8_t *addr);

#endif
