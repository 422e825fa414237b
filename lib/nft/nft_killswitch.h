/* The client's kill switch: one inet table (nym-vpnd's "nym-vpn") whose output, input and
 * forward base chains drop everything but the tunnel device, loopback, the gateway link
 * socket (marked with the tunnel's fwmark), DHCP / NDP and, when allowed, the local networks.
 * It is built as an nft_ruleset and installed with nft_batch in one transaction, the same
 * path as nym-ntm's table. The table outlives the process that installed it: a crash never
 * opens the host; only nft_killswitch_remove does.
 *
 * Output, in order (policy drop):
 *   oifname "lo" accept
 *   oifname TUNNEL [meta nfproto ipv4] accept          (no rule while tunnel is NULL)
 *   oifname OUTER [meta nfproto ipv4] accept           (two-hop: the entry device, see below)
 *   [oifname != TUNNEL] udp|tcp dport 53 drop           (DNS only through the tunnel)
 *   meta mark FWMARK ip|ip6 daddr A tcp|udp dport P accept   (one rule per endpoint)
 *   udp sport 68 udp dport 67 accept; udp sport 546 udp dport 547 accept; icmpv6 type @ndp accept
 *   ip daddr @lan_v4 accept; ip6 daddr @lan_v6 accept   (allow_lan; v6 only with allow_ipv6)
 * Input: ct state established,related accept, lo, the tunnel, DHCP replies, NDP, LAN sources.
 * Forward: only to / from the tunnel.
 *
 * Router mode (n_router_lan > 0; the LAN interfaces in set @router_lan):
 *   output / input: oifname|iifname @router_lan accept (the router serves its LAN: DHCP, DNS,
 *   its own pages); the forward chain stays "only to and from the tunnel", so a LAN host's
 *   packets reach nothing but the tunnel, and nothing at all while there is none (connecting,
 *   or after the daemon died: the table stays);
 *   chain postrouting (nat, srcnat): iifname @router_lan oifname TUNNEL masquerade;
 *   chain prerouting (nat, dstnat): iifname @router_lan udp|tcp dport 53 dnat to the tunnel's
 *   DNS server of the packet's family (router_dns; no rule for a family without one), so the
 *   LAN's DNS, whatever server it asks, is answered through the tunnel.
 * The NAT rules exist only while `tunnel` is set. */
#ifndef NYM_NFT_NFT_KILLSWITCH_H
#define NYM_NFT_NFT_KILLSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft/nft_batch.h"
#include "nft/nft_ruleset.h"

struct nft_killswitch_endpoint {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;	/* host order; 0: any port */
	uint8_t proto;	/* IPPROTO_TCP / IPPROTO_UDP; 0: any protocol (then port must be 0) */
};

struct nft_killswitch_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct nft_killswitch_policy {
	const char *table;  /* "nym-vpn" */
	const char *tunnel; /* "nym0"; NULL while the device does not exist yet */
	/* Two-hop: the outer (entry) WireGuard device that carries the inner one's UDP and the
	 * exit's link, allowed in output and input like the tunnel (not in forward, and only
	 * while `tunnel` is set too); DNS stays the inner tunnel's alone. NULL: none. */
	const char *tunnel_outer;
	uint32_t fwmark;    /* endpoint traffic must carry this mark */
	const struct nft_killswitch_endpoint *endpoints;
	size_t n_endpoints; /* entry gateway link(s), authority API */
	bool allow_lan;
	const struct nft_killswitch_net *lan;
	size_t n_lan;	 /* extra LAN nets (on-link prefixes) besides RFC1918/ULA/link-local */
	bool allow_ipv6; /* false: all IPv6 dropped except NDP / DHCPv6, tunnel included */
	/* Router mode: the LAN interfaces forwarded through the tunnel, and the DNS servers
	 * (family + addr; the first of each family is used) LAN DNS is sent to. */
	const char *const *router_lan;
	size_t n_router_lan;
	const struct nft_killswitch_net *router_dns;
	size_t n_router_dns;
};

/* Builds the table into rs (initialised here; free it with nft_ruleset_free even on error).
 * Returns 0 or -EINVAL (bad table or interface name, family, prefix). */
int nft_killswitch_build(const struct nft_killswitch_policy *p, struct nft_ruleset *rs);

/* Builds and installs the table, replacing one of that name atomically. 0 or -errno. */
int nft_killswitch_apply(const struct nft_killswitch_policy *p, struct nft_batch_error *err);

/* Deletes the table; absent = 0. */
int nft_killswitch_remove(const char *table, struct nft_batch_error *err);

/* 1 when inet table `table` exists, 0 when not, -errno when it cannot be asked. */
int nft_killswitch_present(const char *table);

#endif
