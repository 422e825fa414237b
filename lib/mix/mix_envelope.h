/* The plaintext of a client's Sphinx packet (nymtech/nym common/nymsphinx preparer):
 *
 *     acknowledged:   SURB-ACK (405) | ephemeral X25519 public key (32) | body (1611 regular)
 *     unacknowledged: zeros (19)     | ephemeral X25519 public key (32) | body (1997 regular)
 *
 * the body encrypted to the recipient. A zero first hop marks a packet without a SURB-ACK
 * whose ack bytes carry body instead (our deviation, docs/PROTOCOLS.md §2.9). The recipient's
 * gateway sends a SURB-ACK on and hands the rest on as a RECEIVE item (§8.6):
 *
 *     item = plaintext after the first hop, the 386 ack-packet bytes zeroed when they held one
 *
 * and the recipient tells the layouts apart by those 386 bytes (mix_envelope_item_split).
 * The client derives
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
#define MIX_ENVELOPE_UNACKED_KEY_OFF MIX_SURB_ACK_HOP_LEN
#define MIX_ENVELOPE_UNACKED_BODY_OFF (MIX_SURB_ACK_HOP_LEN + 32)
/* The ack-packet bytes at the front of a RECEIVE item (386). */
#define MIX_ENVELOPE_ITEM_ACK_LEN (MIX_SURB_ACK_LEN - MIX_SURB_ACK_HOP_LEN)

/* Body bytes a packet of `plaintext_len` (2048 for regular) carries: 1611 for regular ... */
size_t mix_envelope_body_len(size_t plaintext_len);
/* ... and without a SURB-ACK: 1997 for regular. */
size_t mix_envelope_unacked_body_len(size_t plaintext_len);

/* Fills out[0..plaintext_len): ack (NULL: the unacknowledged layout), a fresh ephemeral key,
 * the body (body_len must equal mix_envelope_body_len, or mix_envelope_unacked_body_len
 * without an ack) encrypted to recipient_key. Returns 0 or -EINVAL. */
int mix_envelope_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		      const uint8_t recipient_key[32], const uint8_t *body, size_t body_len,
		      const struct nym_rng *rng);

/* n envelopes at once (outs[k] of plaintext_len bytes, acks[k] (NULL: unacknowledged),
 * recipient_keys[k], bodies[k] of body_lens[k] bytes): the ephemeral keys' two curve
 * operations each run together (crypto/x25519_batch). rc[k] gets what mix_envelope_seal
 * would return. */
void mix_envelope_seal_batch(uint8_t *const *outs, size_t plaintext_len, const struct mix_surb_ack *const *acks,
			     const uint8_t *const *recipient_keys, const uint8_t *const *bodies, const size_t *body_lens,
			     const struct nym_rng *rng, int *rc, size_t n);

/* The receiver's split of a RECEIVE item (len = plaintext_len - 19; 2029 for regular): when
 * item[0..386) is all zero, the acknowledged layout (and the old all-zero reply slot): the
 * key material at 386; otherwise the unacknowledged one: at 0. *keyed points at the key
 * material (an ephemeral key or a reply key's digest) followed by the body, *keyed_len
 * bytes. Returns 0 or -EINVAL (too short for key material and one body byte). */
int mix_envelope_item_split(uint8_t *item, size_t len, uint8_t **keyed, size_t *keyed_len);

/* The client's side, on what mix_envelope_item_split found: the body, decrypted in place
 * after the 32-byte key. Returns 0 or -EINVAL. */
int mix_envelope_open(uint8_t *forwarded, size_t len, const uint8_t recipient_secret[32],
		      uint8_t **body, size_t *body_len);

#endif
