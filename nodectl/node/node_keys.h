/* The node's key files under <node dir>/data/, each the base58 of the raw 32 bytes on one
 * line; private files are mode 0600:
 *   ed25519_identity(.pub)          identity (the secret is the 32-byte seed)
 *   x25519_noise(.pub)              Noise static key
 *   x25519_sphinx_<rotation>(.pub)  Sphinx keys: the current rotation's, the next one
 *                                   (announced ahead) and, during the overlap epoch, the
 *                                   previous one.
 *   x25519_wireguard(.pub)          the WireGuard key gateways with wireguard.enabled use
 *                                   and announce (made by `init` as Nym's; a node made
 *                                   before that gets it on first use). */
#ifndef NYM_NODECTL_NODE_KEYS_H
#define NYM_NODECTL_NODE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"
#include "crypto/x25519.h"

#define NODE_SPHINX_KEYS_MAX 3

struct node_sphinx_key {
	uint32_t rotation_id;
	struct nym_x25519_keypair kp;
};

struct node_keys {
	struct nym_ed25519_keypair identity;
	struct nym_x25519_keypair noise;
	size_t sphinx_count;
	struct node_sphinx_key sphinx[NODE_SPHINX_KEYS_MAX]; /* ascending rotation ids */
};

/* Creates identity, Noise, WireGuard and two Sphinx keys (rotations `rotation` and
 * `rotation + 1`).
 * Refuses with -EEXIST if any key file exists. */
int node_keys_create(const char *data_dir, uint32_t rotation);

/* Loads every key (sphinx_count may be 0: `run` creates them). err explains a failure
 * (missing or corrupt file). */
int node_keys_load(const char *data_dir, struct node_keys *keys, char *err, size_t err_len);

/* Writes a new Sphinx key for a rotation (refuses to overwrite). */
int node_sphinx_key_add(const char *data_dir, uint32_t rotation, struct nym_x25519_keypair *out);
/* Removes the key files of rotations outside [first, last]. */
void node_sphinx_keys_prune(const char *data_dir, uint32_t first, uint32_t last);

/* Loads data/x25519_wireguard, creating it first if missing. */
int node_wireguard_key(const char *data_dir, struct nym_x25519_keypair *out, char *err, size_t err_len);

void node_keys_clear(struct node_keys *keys);

#endif
