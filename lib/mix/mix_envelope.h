/* The plaintext of a client's Sphinx packet (nymtech/nym common/nymsphinx preparer):
 *
 *     SURB-ACK (405) | ephemeral X25519 public key (32) | body, encrypted to the recipient
 *
 * The recipient's gateway strips the SURB-ACK (and sends its packet on); the client derives
 * the body key from the ephemeral key and its encryption secret. Body key: HKDF-SHA256 of
 * the X25519 secret (salt empty, info "nym-c/packet-key/v1", 16 bytes), AES-128-CTR64 with a
 * zero IV. Nym derives the key with a BLAKE3-based HKDF, which we do not carry: this is a
 * recorded deviation (docs/PROTOCOLS.md), so bodies do not interoperate with Nym clients;
 * everything around them does. */
#ifndef NYM_MIX_MIX_ENVELOPE_H
#define NYM_MIX_MIX_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "mix/mix_surb_ack.h"

#define MIX_ENVELOPE_KEY_OFF MIX_SURB_ACK_LEN
#define MIX_ENVELOPE_BODY_OFF (MIX_SURB_ACK_LEN + 32)

/* Body bytes a packet of `plaintext_len` (2048 for regular) carries: 1611 for regular. */
size_t mix_envelope_body_len(size_t plaintext_len);

/* Fills out[0..plaintext_len): ack, a fresh ephemeral key, the body (body_len must equal
 * mix_envelope_body_len) encrypted to recipient_key. Returns 0 or -EINVAL. */
int mix_envelope_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		      const uint8_t recipient_key[32], const uint8_t *body, size_t body_len,
		      const struct nym_rng *rng);

/* n envelopes at once (outs[k] of plaintext_len bytes, acks[k], recipient_keys[k],
 * bodies[k] of body_len bytes): the ephemeral keys' two curve operations each run together
 * (crypto/x25519_batch). rc[k] gets what mix_envelope_seal would return. */
void mix_envelope_seal_batch(uint8_t *const *outs, size_t plaintext_len, const struct mix_surb_ack *const *acks,
			     const uint8_t *const *recipient_keys, const uint8_t *const *bodies, size_t body_len,
			     const struct nym_rng *rng, int *rc, size_t n);

/* The client's side, on what its gateway forwards (the envelope after the SURB-ACK): the
 * body, decrypted in place after the 32-byte key. Returns 0 or -EINVAL. */
int mix_envelope_open(uint8_t *forwarded, size_t len, const uint8_t recipient_secret[32],
		      uint8_t **body, size_t *body_len);

#endif
