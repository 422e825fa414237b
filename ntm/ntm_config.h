/* nym-ntm's configuration: a YAML file (default /etc/nym/ntm.yaml) whose every key has
 * Nym's default, overridden by command-line options. packaging/ntm.yaml lists the keys. */
#ifndef NYM_NTM_NTM_CONFIG_H
#define NYM_NTM_NTM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft/nft_gateway.h"

#define NTM_DEFAULT_CONFIG "/etc/nym/ntm.yaml"
#define NTM_DEFAULT_POLICY "/etc/nym/exit-policy.txt"
#define NTM_TABLE "nym-ntm"
#define NTM_MAX_ENTRY_GATEWAYS 64
#define NTM_MAX_ENTRY_PORTS 16

struct ntm_entry_gateway {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct ntm_entry_port {
	uint16_t port;
	bool udp;
};

struct ntm_config {
	enum nft_gateway_mode mode;
	char policy[4096];
	char uplink_v4[NFT_IFNAME_LEN]; /* an interface, "auto" or "none" */
	char uplink_v6[NFT_IFNAME_LEN];
	uint16_t ssh_port;
	bool host_firewall;
	struct nft_gateway_tunnel tunnels[NFT_GATEWAY_MAX_TUNNELS];
	size_t n_tunnels;
	char wireguard_interface[NFT_IFNAME_LEN];
	struct nft_gateway_ports tcp, udp, gateway_tcp, gateway_udp, wireguard_tcp;
	struct ntm_entry_gateway entry_gateways[NTM_MAX_ENTRY_GATEWAYS];
	size_t n_entry_gateways;
	struct ntm_entry_port entry_ports[NTM_MAX_ENTRY_PORTS];
	size_t n_entry_ports;
};

/* Nym's defaults. */
void ntm_config_defaults(struct ntm_config *cfg);

/* Reads `path` over the defaults. A missing file is not an error when `optional`. On a bad
 * file prints "PATH:LINE:COLUMN: problem" to stderr and returns -EINVAL; other failures
 * return -errno with a message printed. */
int ntm_config_load(struct ntm_config *cfg, const char *path, bool optional);

/* "mixnode", "entry-gateway", "exit-gateway"; returns 0 or -EINVAL. */
int ntm_mode_parse(const char *s, enum nft_gateway_mode *out);
const char *ntm_mode_name(enum nft_gateway_mode mode);

/* A valid Linux interface name (1-15 characters of [A-Za-z0-9_.@-]). */
bool ntm_ifname_valid(const char *s);

#endif
