/* Noise_XKpsk3_25519_AESGCM_SHA256 as Nym's nodes speak it (nymtech/nym common/nymnoise),
 * as a pure state machine: messages in, messages out, no sockets.
 *
 *     <- s
 *     ...
 *     -> e, es
 *     <- e, ee
 *     -> s, se, psk
 *
 * The initiator knows the responder's static key beforehand (from the topology); the
 * responder learns the initiator's from the third message. Nym uses no prologue, empty
 * payloads (messages of 48, 48 and 64 bytes) and the pre-shared key
 * SHA256("NYMTECH_NOISE_dQw4w9WgXcQ" || responder static public key) in position 3 (Nym's
 * Noise version 1). Prologue and payloads are supported anyway: the Noise test vectors use
 * them.
 *
 * Any failure aborts the handshake for good (the state is zeroed), as the Noise spec says. */
#ifndef NYM_NOISE_NOISE_HANDSHAKE_H
#define NYM_NOISE_NOISE_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "noise/noise_cipher.h"
#include "noise/noise_transport.h"

#define NOISE_PROTOCOL_NAME "Noise_XKpsk3_25519_AESGCM_SHA256"
#define NOISE_HASH_LEN 32
#define NOISE_DH_LEN 32
#define NOISE_PSK_LEN 32
#define NOISE_NYM_PSK_PREFIX "NYMTECH_NOISE_dQw4w9WgXcQ"
/* Lengths of the three messages with empty payloads. */
#define NOISE_XK_MSG1_LEN (NOISE_DH_LEN + NOISE_TAG_LEN)
#define NOISE_XK_MSG2_LEN (NOISE_DH_LEN + NOISE_TAG_LEN)
#define NOISE_XK_MSG3_LEN (NOISE_DH_LEN + 2 * NOISE_TAG_LEN)

enum noise_role {
	NOISE_INITIATOR = 0,
	NOISE_RESPONDER = 1,
};

struct noise_handshake {
	enum noise_role role;
	unsigned next;	/* index of the next message: 0, 1, 2; 3 when done */
	bool failed;
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
	struct noise_cipher cs;
	struct nym_x25519_keypair s;
	struct nym_x25519_keypair e;
	uint8_t rs[NOISE_DH_LEN];
	uint8_t re[NOISE_DH_LEN];
	uint8_t psk[NOISE_PSK_LEN];
	const struct nym_rng *rng;
};

/* Nym's PSK (version 1) for a connection to the node with this static Noise key. */
void noise_nym_psk(uint8_t psk[NOISE_PSK_LEN], const uint8_t responder_static[NOISE_DH_LEN]);

/* Starts a handshake on a fresh or cleared state (init does not release an earlier one).
 * s is our static key pair; rs the responder's static public key
 * (initiator only, NULL for the responder); rng supplies the ephemeral key (NULL: system
 * randomness). Returns 0 or -EINVAL (initiator without rs). */
int noise_handshake_init(struct noise_handshake *hs, enum noise_role role,
			 const struct nym_x25519_keypair *s, const uint8_t *rs,
			 const uint8_t psk[NOISE_PSK_LEN], const uint8_t *prologue,
			 size_t prologue_len, const struct nym_rng *rng);

/* Whether the next message is ours to write. */
bool noise_handshake_my_turn(const struct noise_handshake *hs);
bool noise_handshake_done(const struct noise_handshake *hs);

/* Writes our next message carrying payload. Returns 0, -EPROTO (not our turn, or the
 * handshake has failed or finished), -ENOSPC, or -EINVAL / -ENOMEM (the handshake then
 * fails). */
int noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
			  uint8_t *out, size_t cap, size_t *written);

/* Reads the peer's next message; its payload goes to payload_out. Returns 0, -EPROTO (not
 * the peer's turn), -EMSGSIZE (too short), -EBADMSG (authentication failed: wrong keys or
 * PSK, or tampering), -EINVAL (a low-order public key) or -ENOSPC. Every error but -EPROTO
 * and -ENOSPC fails the handshake. */
int noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg, size_t len,
			 uint8_t *payload_out, size_t cap, size_t *payload_len);

/* The handshake hash h (for channel binding and tests). */
void noise_handshake_get_hash(const struct noise_handshake *hs, uint8_t out[NOISE_HASH_LEN]);

/* The peer's static public key: known to the initiator from the start, to the responder
 * after the third message. Returns 0 or -EAGAIN. */
int noise_handshake_remote_static(const struct noise_handshake *hs, uint8_t out[NOISE_DH_LEN]);

/* Once done: derives the transport cipher states and zeroes the handshake. Returns 0 or
 * -EPROTO if the handshake is not complete. */
int noise_handshake_split(struct noise_handshake *hs, struct noise_transport *t);

void noise_handshake_clear(struct noise_handshake *hs);

#endif
