/* The userspace twin of nym_awg.ko: a UDP relay that applies the AmneziaWG 1.0 transform
 * (awg/awg.h) between a plain WireGuard implementation (wireguard-go) and the network.
 *
 *   wireguard-go <-> [wg socket]  relay thread (io_uring)  [net socket, SO_MARK] <-> gateway
 *
 * Datagrams from the wg side are plain WireGuard: they are encoded (S1/S2 prefix in the
 * buffer's headroom, header swap in place) and sent on the net socket, Jc junk datagrams
 * first before every initiation (one sendmmsg). Datagrams from the net side are classified
 * and decoded in place; what does not classify is dropped and counted. One socket per side,
 * one relay per tunnel, its own thread and ring.
 *
 * A side's peer address given in the configuration is fixed; a side without one learns it:
 * the wg side from the last datagram wireguard-go sent, the net side from the last datagram
 * that classified (a responder in front of a WireGuard listener, as the tests use it). */
#ifndef NYM_WG_WG_AWG_RELAY_H
#define NYM_WG_WG_AWG_RELAY_H

#include <stdint.h>

#include "awg/awg.h"
#include "net/net_addr.h"

struct wg_awg_relay_config {
	struct awg_params params;
	struct net_addr wg_bind;  /* where wireguard-go sends to, e.g. 127.0.0.1:0 (port 0: any) */
	struct net_addr wg_peer;  /* wireguard-go's own address; len 0: learned */
	struct net_addr net_bind; /* len 0: any address, any port, of net_peer's family */
	struct net_addr net_peer; /* the remote (the entry gateway); len 0: learned */
	uint32_t fwmark;	  /* SO_MARK on the net socket; 0: none */
};

struct wg_awg_relay_stats {
	uint64_t to_net, from_net;	  /* datagrams relayed each way */
	uint64_t junk;			  /* junk datagrams sent */
	uint64_t initiations, responses;  /* handshake messages sent to the net */
	uint64_t dropped_net, dropped_wg; /* did not classify / were not WireGuard, or no peer yet */
};

struct wg_awg_relay;

/* Validates the parameters, opens and binds both sockets, starts the thread. Returns 0 or
 * -errno (-EINVAL for parameters that break a rule, io_uring and socket errors). */
int wg_awg_relay_start(const struct wg_awg_relay_config *c, struct wg_awg_relay **out);

/* The bound addresses: where wireguard-go must send (its peer endpoint), and the net side. */
void wg_awg_relay_wg_addr(const struct wg_awg_relay *r, struct net_addr *out);
void wg_awg_relay_net_addr(const struct wg_awg_relay *r, struct net_addr *out);

void wg_awg_relay_stats(const struct wg_awg_relay *r, struct wg_awg_relay_stats *out);

/* Stops the thread, closes the sockets, frees. NULL is allowed. */
void wg_awg_relay_stop(struct wg_awg_relay *r);

#endif
