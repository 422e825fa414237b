/* TEMPORARY: stands in for nodectl/gateway/gateway_ipr.h (contract 4 of the gateway work, branch
 * `ipr`) until that lands; with the real header present this file only includes it. Delete
 * once `ipr` is merged. */
#ifndef NYM_NODECTL_GATEWAY_IPR_STUB_H
#define NYM_NODECTL_GATEWAY_IPR_STUB_H

#if __has_include("nodectl/gateway/gateway_ipr.h")
#include "nodectl/gateway/gateway_ipr.h"
#define GATEWAY_IPR_AVAILABLE 1
#define GATEWAY_IPR_ENABLED(cfg) ((cfg)->exit_gateway.ip_packet_router.enabled)
#else
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "mix/mix_packet_size.h"
#include "net/net_addr.h"
#include "nodectl/node/node_config.h"

#define GATEWAY_IPR_AVAILABLE 0
#define GATEWAY_IPR_ENABLED(cfg) ((void)(cfg), 0)

struct gateway_ipr;
struct gateway_ipr_hooks {
	void *ctx;
	int (*inject)(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		      const uint8_t *packet, size_t len);
};

static inline int gateway_ipr_start(const struct node_config *cfg, const char *node_dir,
				    const struct nym_ed25519_keypair *identity, const struct gateway_ipr_hooks *hooks,
				    struct gateway_ipr **out)
{
	(void)cfg, (void)node_dir, (void)identity, (void)hooks;
	*out = NULL;
	return -ENOSYS;
}
static inline void gateway_ipr_deliver(struct gateway_ipr *ipr, enum mix_packet_size size, const uint8_t *item,
				       size_t len)
{
	(void)ipr, (void)size, (void)item, (void)len;
}
static inline void gateway_ipr_stop(struct gateway_ipr *ipr)
{
	(void)ipr;
}
#endif

#endif
