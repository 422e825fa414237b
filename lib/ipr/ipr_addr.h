/* The IP packet router's address pairs (Nym's service-providers/ip-packet-router
 * util/generate_new_ip.rs): the TUN device holds 10.0.0.1/16 and fc00::1/112, and each
 * client gets one pair sharing a 16-bit index r in 2..65534:
 *
 *     IPv4 10.0.(r >> 8).(r & 255)     IPv6 fc00::r
 *
 * (0 is the network, 1 the router, 65535 the IPv4 broadcast.) Allocation draws r uniformly
 * and retries a taken pair up to 100 times, then gives up, as Nym does; it is pure given
 * its random source and the caller's view of which pairs are taken. */
#ifndef NYM_IPR_IPR_ADDR_H
#define NYM_IPR_IPR_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secret.h"

#define IPR_ADDR_INDEX_MIN 2
#define IPR_ADDR_INDEX_MAX 65534
#define IPR_ADDR_ATTEMPTS 100
#define IPR_TUN_V4_PREFIX_LEN 16
#define IPR_TUN_V6_PREFIX_LEN 112

struct ipr_addr_pair {
	uint8_t v4[4];
	uint8_t v6[16];
};

/* The router's own pair (index 1): 10.0.0.1 and fc00::1. */
void ipr_addr_tun(struct ipr_addr_pair *out);

/* The pair of index r. Returns 0 or -EINVAL (r outside 2..65534). */
int ipr_addr_from_index(uint16_t r, struct ipr_addr_pair *out);

/* The index of a client address (to find the client a packet from the TUN is for).
 * Returns 0 or -EINVAL (not a client address of the pool). */
int ipr_addr_index_v4(const uint8_t v4[4], uint16_t *r);
int ipr_addr_index_v6(const uint8_t v6[16], uint16_t *r);

/* Whether the caller already gave this pair out. */
typedef bool (*ipr_addr_taken_fn)(const struct ipr_addr_pair *pair, uint16_t r, void *ctx);

/* Draws up to 100 indices from rng (NULL: the system's) and returns the first free pair.
 * Returns 0 or -EADDRNOTAVAIL (Nym's NoAvailableIp). */
int ipr_addr_allocate(const struct nym_rng *rng, ipr_addr_taken_fn taken, void *ctx,
		      struct ipr_addr_pair *out, uint16_t *r_out);

#endif
