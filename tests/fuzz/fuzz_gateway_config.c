/* Node host configuration (YAML): any input parses or fails with a position and a message;
 * a parsed configuration holds only valid interface names and prefixes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nft/gateway_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gateway_config cfg;
	gateway_config_defaults(&cfg, "/etc/nym/exit-policy.txt");
	struct gateway_config_error err;
	int rc = gateway_config_parse(&cfg, (const char *)data, size, &err);
	if (rc == -EINVAL) {
		if (err.message[0] == '\0' || err.line == 0)
			abort();
		return 0;
	}
	if (rc)
		return 0;
	if (cfg.n_tunnels == 0 || cfg.n_tunnels > NFT_GATEWAY_MAX_TUNNELS || cfg.ssh_port == 0)
		abort();
	for (size_t i = 0; i < cfg.n_tunnels; i++)
		if (!gateway_config_ifname_valid(cfg.tunnels[i].ifname) || cfg.tunnels[i].v4_prefix > 32 ||
		    cfg.tunnels[i].v6_prefix > 128)
			abort();
	for (size_t i = 0; i < cfg.n_entry_gateways; i++)
		if (cfg.entry_gateways[i].prefix > (cfg.entry_gateways[i].family == 4 ? 32 : 128))
			abort();
	return 0;
}
