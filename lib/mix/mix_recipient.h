/* A client's mixnet address (Nym's Recipient): its Ed25519 identity, its X25519 encryption
 * key and its gateway's identity, 96 bytes. Text form (Nym's):
 *     <identity b58>.<encryption key b58>@<gateway identity b58>
 * The identity is also the Sphinx destination of packets for this client. */
#ifndef NYM_MIX_MIX_RECIPIENT_H
#define NYM_MIX_MIX_RECIPIENT_H

#include <stddef.h>
#include <stdint.h>

#define MIX_RECIPIENT_LEN 96
#define MIX_RECIPIENT_TEXT_MAX 160

struct mix_recipient {
	uint8_t identity[32];
	uint8_t encryption_key[32];
	uint8_t gateway[32];
};

void mix_recipient_encode(const struct mix_recipient *r, uint8_t out[MIX_RECIPIENT_LEN]);
void mix_recipient_decode(const uint8_t in[MIX_RECIPIENT_LEN], struct mix_recipient *out);
/* Returns the text length, or -ENOSPC. */
int mix_recipient_format(const struct mix_recipient *r, char *out, size_t cap);
/* Returns 0 or -EINVAL (not of the form id.key@gateway with three base58 32-byte keys). */
int mix_recipient_parse(const char *text, struct mix_recipient *out);

/* The address of a service a node runs itself (the exit gateway's IP packet router): the
 * node's identity, the X25519 key converted from it (crypto/ed25519.h), and the node as its
 * own gateway. The service opens envelopes with nym_ed25519_secret_to_x25519 of the node's
 * identity. Returns 0 or -EINVAL (not a valid identity key). */
int mix_recipient_of_node(const uint8_t node_identity[32], struct mix_recipient *out);

#endif
