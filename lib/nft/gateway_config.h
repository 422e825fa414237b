/* The configuration of a node host's networking (the YAML file nym-ntm reads, default
 * /etc/nym/ntm.yaml): mode, uplinks, tunnel interfaces and subnets, the node's ports and the
 * entry gateway's destinations. Every key has Nym's default; packaging/ntm.yaml lists them.
 * It is read with lib/conf from a byte buffer; errors give the line and column of a bad key
 * or value. */
#ifndef NYM_NFT_GATEWAY_CONFIG_H
#define NYM_NFT_GATEWAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "nft/nft_gateway.h"

#define GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS 64
#define GATEWAY_CONFIG_MAX_ENTRY_PORTS 16

struct gateway_config_entry_dest {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct gateway_config_entry_port {
	uint16_t port;
	bool udp;
};

struct gateway_config {
	enum nft_gateway_mode mode;
	char policy[4096];
	char uplink_v4[NFT_IFNAME_LEN]; /* an interface, "auto" or "none" */
	char uplink_v6[NFT_IFNAME_LEN];
	uint16_t ssh_port;
	bool host_firewall;
	bool flow_offload; /* offload established connections to a flowtable when the kernel can */
	struct nft_gateway_tunnel tunnels[NFT_GATEWAY_MAX_TUNNELS];
	size_t n_tunnels;
	char wireguard_interface[NFT_IFNAME_LEN];
	struct nft_gateway_ports tcp, udp, gateway_tcp, gateway_udp, wireguard_tcp;
	struct gateway_config_entry_dest entry_gateways[GATEWAY_CONFIG_MAX_ENTRY_GATEWAYS];
	size_t n_entry_gateways;
	struct gateway_config_entry_port entry_ports[GATEWAY_CONFIG_MAX_ENTRY_PORTS];
	size_t n_entry_ports;
};

struct gateway_config_error {
	uint32_t line, column; /* 1-based; 0 when the problem has no position */
	char message[CONF_ERROR_MAX];
};

/* Nym's defaults; `policy` is the file the caller names. */
void gateway_config_defaults(struct gateway_config *cfg, const char *policy);

/* Parses YAML text over what *cfg holds (normally the defaults). Returns 0, -EINVAL with
 * *err filled in, or -ENOMEM. An empty document changes nothing. */
int gateway_config_parse(struct gateway_config *cfg, const char *text, size_t len,
			 struct gateway_config_error *err);

/* "mixnode", "entry-gateway", "exit-gateway"; returns 0 or -EINVAL. */
int gateway_config_mode_parse(const char *s, enum nft_gateway_mode *out);
const char *gateway_config_mode_name(enum nft_gateway_mode mode);

/* A valid Linux interface name (1-15 characters of [A-Za-z0-9_.@-]). */
bool gateway_config_ifname_valid(const char *s);

#endif
