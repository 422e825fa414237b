/* What a node knows of other nodes, from a topology file (--topology or
 * mixnet.topology_file) or from the authorities' signed epoch document: their mixnet
 * addresses and keys. The forwarding engine asks it for a next hop's Noise key. File format: a JSON array
 * of {"identity": B58, "mix_address": "IP:PORT", "sphinx_key": B58, "noise_key": B58};
 * only mix_address is required. */
#ifndef NYM_MIXNODE_MIXNODE_PEERS_H
#define NYM_MIXNODE_MIXNODE_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_addr.h"
#include "topology/epoch_doc.h"

struct mixnode_peer {
	struct net_addr mix_address;
	bool has_noise_key;
	uint8_t noise_key[32];
	uint8_t sphinx_key[32];
	uint8_t identity[32];
};

struct mixnode_peers {
	size_t count;
	struct mixnode_peer nodes[];
};

/* Returns 0 or -EINVAL with err naming the file, entry and field. */
int mixnode_peers_load(const char *path, struct mixnode_peers **out, char *err, size_t err_len);
/* Every node of the document (mixnodes and gateways), one entry per announced address, with
 * the Sphinx key of `rotation` (or the first announced). Returns 0 or -ENOMEM. */
int mixnode_peers_from_document(const struct nym_epoch_doc *doc, uint32_t rotation, struct mixnode_peers **out);
const struct mixnode_peer *mixnode_peers_find(const struct mixnode_peers *t, const struct sockaddr *addr);

#endif
