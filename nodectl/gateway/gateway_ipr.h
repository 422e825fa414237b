/* The IP packet router service inside the exit gateway process (contract 4 of issue 11): it
 * creates the TUN device (exit_gateway.ip_packet_router.tun_name, default nymtun0) with
 * 10.0.0.1/16 and fc00::1/112, loads the exit policy, and runs lib/gateway/gateway_ipr's
 * engine on its own thread: a poll loop over the TUN fd, an eventfd for the final-hop packets
 * the gateway delivers, and the engine's timers. Reply packets leave through hooks->inject
 * (the gateway's mixnet plane). */
#ifndef NYM_NODECTL_GATEWAY_IPR_H
#define NYM_NODECTL_GATEWAY_IPR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "gateway/gateway_ipr.h"
#include "mix/mix_packet_size.h"
#include "net/net_addr.h"
#include "nodectl/node/node_config.h"

struct gateway_ipr;

/* Mixnet injection, provided by the gateway (gateway_plane_inject): one built Sphinx packet
 * for next_hop, key_rotation 0 = the node's primary key. Called from the IPR's thread. */
struct gateway_ipr_hooks {
	void *ctx;
	int (*inject)(void *ctx, const struct net_addr *next_hop, uint8_t key_rotation, enum mix_packet_size size,
		      const uint8_t *packet, size_t len);
};

/* Creates the TUN device, loads the exit policy, starts the thread. node_dir anchors a
 * relative policy_file. A missing policy file is logged as an error and the router runs with
 * an empty policy (every packet refused: fail closed, the gateway keeps serving). Returns 0,
 * -EPERM (no CAP_NET_ADMIN), -EBUSY (the device is held by another process), -EINVAL (a
 * policy that does not parse: logged with its line and column) or -errno. */
int gateway_ipr_start(const struct node_config *cfg, const char *node_dir, const struct nym_ed25519_keypair *identity,
		      const struct gateway_ipr_hooks *hooks, struct gateway_ipr **out);

/* Thread-safe, copies: the plaintext of a final-hop packet addressed to the IPR after its
 * first hop was taken off (2029 bytes for regular, §8.6). Dropped and counted when the queue is full. */
void gateway_ipr_deliver(struct gateway_ipr *ipr, enum mix_packet_size size, const uint8_t *item, size_t len);

/* The engine's counters plus the deliveries dropped at the queue. Thread-safe. */
void gateway_ipr_get_stats(struct gateway_ipr *ipr, struct gateway_ipr_stats *out, uint64_t *deliver_dropped);

/* Stops the thread, frees everything, removes the TUN device. NULL is fine. */
void gateway_ipr_stop(struct gateway_ipr *ipr);

#endif
