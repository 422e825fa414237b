/* At most N identities per IP address in a vote (Tor's AuthDirMaxServersPerAddr): one host
 * cannot fill a layer with identities however many keys it makes. IPv4 addresses count
 * exactly, IPv6 per /64 (one host easily holds a /64). A node listing several addresses
 * counts against each of them and is kept only when every one has room. Pure function. */
#ifndef NYM_DIRECTORY_ADDRESS_LIMIT_H
#define NYM_DIRECTORY_ADDRESS_LIMIT_H

#include <stddef.h>

#include "topology/descriptor.h"

/* Keeps, in the given order of preference, the nodes that fit max_per_address, compacting
 * nodes[] in place (kept nodes stay in their order); *n becomes the number kept. Returns 0,
 * -EINVAL (max_per_address is 0) or -ENOMEM. An address that does not parse counts as its
 * own text. */
int nym_address_limit(struct nym_descriptor_signed *nodes, size_t *n, size_t max_per_address);

#endif
