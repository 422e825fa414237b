/* The per-hop key schedule: HKDF-SHA256 of the X25519 shared secret into 288 bytes, split into
 * the header stream key, MAC key, payload key material, blinding factor and replay tag. */
#ifndef NYM_SPHINX_KEYS_H
#define NYM_SPHINX_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "sphinx/sphinx_params.h"

/* Byte-for-byte the HKDF output: field order and sizes are the wire schedule. */
struct sphinx_hop_keys {
	uint8_t stream_key[16];
	uint8_t mac_key[16];
	uint8_t payload[SPHINX_PAYLOAD_KEY_LEN]; /* v258 key; its first 16 bytes are the v259 seed */
	uint8_t blinding[32];
	uint8_t replay_tag[SPHINX_REPLAY_TAG_LEN];
};

_Static_assert(sizeof(struct sphinx_hop_keys) == 288, "Sphinx expanded secret is 288 bytes");

bool sphinx_version_supported(uint16_t version);

/* Expands a 32-byte X25519 shared secret. */
void sphinx_keys_expand(struct sphinx_hop_keys *keys, const uint8_t shared[32]);

/* The Lioness key for a hop's payload layer under `version` (258: the raw region, 259: HKDF
 * of the seed). Returns 0 or -EPROTONOSUPPORT. */
int sphinx_payload_key(uint8_t out[SPHINX_PAYLOAD_KEY_LEN], const uint8_t material[SPHINX_PAYLOAD_KEY_LEN],
		       uint16_t version);
void sphinx_payload_key_from_seed(uint8_t out[SPHINX_PAYLOAD_KEY_LEN],
				  const uint8_t seed[SPHINX_PAYLOAD_SEED_LEN]);

void sphinx_hop_keys_clear(struct sphinx_hop_keys *keys);

#endif
