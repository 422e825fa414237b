/* The nftables table of a Nym node host, built from a plain description: the host's own
 * ports (input), forwarding from the tunnel interfaces through a policy (forward), and
 * masquerading of the tunnel subnets behind the uplinks (postrouting). nym-ntm applies it;
 * the node can build the same table for the same job. */
#ifndef NYM_NFT_NFT_GATEWAY_H
#define NYM_NFT_NFT_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft/nft_ruleset.h"
#include "policy/policy.h"
#include "policy/policy_compile.h"

enum nft_gateway_mode {
	NFT_GATEWAY_MIXNODE,	   /* no forwarding: host ports only */
	NFT_GATEWAY_ENTRY,	   /* forwards to other gateways only (policy synthesised by the caller) */
	NFT_GATEWAY_EXIT,	   /* forwards through the exit policy */
};

#define NFT_GATEWAY_MAX_TUNNELS 4
#define NFT_GATEWAY_MAX_PORTS 64

struct nft_gateway_tunnel {
	char ifname[NFT_IFNAME_LEN];
	bool has_v4, has_v6;
	uint8_t v4[4], v4_prefix;
	uint8_t v6[16], v6_prefix;
};

struct nft_gateway_ports {
	uint16_t port[NFT_GATEWAY_MAX_PORTS];
	size_t n;
};

struct nft_gateway {
	const char *table;
	const char *comment; /* table comment; nym-ntm keeps its saved state there */
	enum nft_gateway_mode mode;
	char uplink_v4[NFT_IFNAME_LEN]; /* "" = no IPv4 forwarding */
	char uplink_v6[NFT_IFNAME_LEN]; /* "" = no IPv6 forwarding */
	struct nft_gateway_tunnel tunnels[NFT_GATEWAY_MAX_TUNNELS];
	size_t n_tunnels;
	char wireguard_ifname[NFT_IFNAME_LEN]; /* where wireguard_tcp opens; "" = nowhere */
	bool host_firewall;		       /* input chain with policy drop */
	/* Gateway modes: a flowtable on these devices (none = no flowtable) that established
	 * forwarded connections are offloaded to. */
	char offload_devices[NFT_FLOWTABLE_MAX_DEVICES][NFT_IFNAME_LEN];
	size_t n_offload_devices;
	struct nft_gateway_ports tcp, udp;     /* opened in every mode (SSH included) */
	struct nft_gateway_ports gateway_tcp, gateway_udp; /* gateway modes only */
	struct nft_gateway_ports wireguard_tcp;		   /* gateway modes, WireGuard interface only */
	const struct policy *policy;		 /* gateway modes */
	const struct policy_compiled *compiled;
};

#define NFT_GATEWAY_FLOWTABLE "fastpath"

/* Builds the table into rs (initialised here). Returns 0, -EINVAL or -ENOMEM; rs must be
 * freed either way. */
int nft_gateway_build(const struct nft_gateway *g, struct nft_ruleset *rs);

#endif
