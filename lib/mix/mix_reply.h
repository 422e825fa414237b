/* Replies through reply SURBs (docs/PROTOCOLS.md §2.11; Nym's ReplyMessage): whoever holds a
 * reply SURB and its 16-byte reply key sends one packet back to the SURB's creator without
 * learning who that is. The plaintext of a regular reply packet (2048 bytes):
 *
 *     acknowledged:   SURB-ACK (405) | digest of the reply key (32) | body (1611)
 *     unacknowledged: zeros (19)     | digest of the reply key (32) | body (1997)
 *
 * the body AES-128-CTR64(key, zero IV). The creator's gateway sends a SURB-ACK on; a zero
 * first hop means "no ack" and the 386 bytes after it carry body (our deviation, §2.11:
 * Nym's repliers attach a SURB-ACK of their own).
 * The creator finds the key again by its digest, SHA-256(key), kept in its reply-key store;
 * the first 32 bytes after the slot are an ephemeral key in a normal envelope (§2.9) and a
 * digest in a reply, and a client looks the digest up before treating them as a key. */
#ifndef NYM_MIX_MIX_REPLY_H
#define NYM_MIX_MIX_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mix/mix_surb_ack.h"

#define MIX_REPLY_KEY_LEN 16
#define MIX_REPLY_DIGEST_LEN 32
#define MIX_REPLY_DIGEST_OFF MIX_SURB_ACK_LEN
#define MIX_REPLY_BODY_OFF (MIX_SURB_ACK_LEN + MIX_REPLY_DIGEST_LEN)
#define MIX_REPLY_UNACKED_DIGEST_OFF MIX_SURB_ACK_HOP_LEN
#define MIX_REPLY_UNACKED_BODY_OFF (MIX_SURB_ACK_HOP_LEN + MIX_REPLY_DIGEST_LEN)

void mix_reply_key_digest(const uint8_t key[MIX_REPLY_KEY_LEN], uint8_t digest[MIX_REPLY_DIGEST_LEN]);

/* Body bytes a reply of `plaintext_len` carries (as mix_envelope_body_len: 1611 for
 * regular). */
size_t mix_reply_body_len(size_t plaintext_len);
/* ... and an unacknowledged one (1997 for regular). */
size_t mix_reply_unacked_body_len(size_t plaintext_len);

/* Fills out[0..plaintext_len): the SURB-ACK, the key's digest and the body encrypted under
 * key; ack NULL: the unacknowledged layout. body_len must equal mix_reply_body_len (or
 * mix_reply_unacked_body_len without an ack). The
 * result is the message that sphinx_surb_use puts into the reply packet. Returns 0 or
 * -EINVAL. */
int mix_reply_seal(uint8_t *out, size_t plaintext_len, const struct mix_surb_ack *ack,
		   const uint8_t key[MIX_REPLY_KEY_LEN], const uint8_t *body, size_t body_len);

/* The creator's side, on what mix_envelope_item_split found in a RECEIVE item: the digest (to look the key up) ... */
int mix_reply_digest(const uint8_t *forwarded, size_t len, const uint8_t **digest);
/* ... then the body, decrypted in place after the digest. Returns 0 or -EINVAL. */
int mix_reply_open(uint8_t *forwarded, size_t len, const uint8_t key[MIX_REPLY_KEY_LEN],
		   uint8_t **body, size_t *body_len);

#endif
