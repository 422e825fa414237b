/* A Nym node-to-node Noise connection without the socket: framing, handshake and transport
 * glued together. The owner feeds it what it reads and writes what it is told to.
 *
 *     initiator: noise_session_init(..., NOISE_INITIATOR, our key, peer's Noise key)
 *                noise_session_start -> write the first handshake frame
 *     both:      on each read: noise_session_feed, then noise_session_next until -EAGAIN;
 *                an event may ask to write a handshake frame (ev.send), report the
 *                handshake done (ev.established) or deliver plaintext (ev.data)
 *                to send: noise_session_seal -> write the data frames
 *
 * The PSK is Nym's version 1 derivation from the responder's static key, no prologue, empty
 * handshake payloads (payloads received are ignored). Handshake frames longer than 1024
 * bytes are refused (Nym's handshake buffer). Any error is final: drop the connection. */
#ifndef NYM_NOISE_NOISE_SESSION_H
#define NYM_NOISE_NOISE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise/noise_frame.h"
#include "noise/noise_handshake.h"
#include "noise/noise_transport.h"

#define NOISE_HANDSHAKE_MAX_LEN 1024

enum noise_session_state {
	NOISE_SESSION_HANDSHAKE = 0,
	NOISE_SESSION_TRANSPORT = 1,
	NOISE_SESSION_FAILED = 2,
};

struct noise_session_event {
	const uint8_t *send; /* a frame to write to the peer now, or NULL */
	size_t send_len;
	const uint8_t *data; /* received plaintext (inside the caller's buffer), or NULL */
	size_t data_len;
	bool established; /* the handshake completed with this frame */
};

struct noise_session {
	enum noise_role role;
	enum noise_session_state state;
	int error;
	struct noise_handshake hs;
	struct noise_transport tr;
	uint8_t remote_static[NOISE_DH_LEN];
	uint8_t handshake_hash[NOISE_HASH_LEN]; /* h at the end of the handshake */
	uint8_t reply[NOISE_FRAME_HEADER_LEN + NOISE_HANDSHAKE_MAX_LEN];
	struct noise_frame_decoder dec;
};

/* On a fresh or cleared session. remote_static: the responder's Noise key (initiator only;
 * NULL for a responder).
 * Returns 0 or -EINVAL. */
int noise_session_init(struct noise_session *s, enum noise_role role,
		       const struct nym_x25519_keypair *local, const uint8_t *remote_static,
		       const struct nym_rng *rng);

/* Initiator: the first handshake frame (8 + 48 bytes). Returns 0, -EPROTO or -ENOSPC. */
int noise_session_start(struct noise_session *s, uint8_t *out, size_t cap, size_t *written);

/* Hands over the next bytes read from the peer (see noise_frame_decoder_feed). */
int noise_session_feed(struct noise_session *s, const uint8_t *in, size_t len);

/* Processes the next complete frame. out (at least NOISE_MAX_PLAINTEXT_LEN bytes) receives
 * plaintext. Returns 0 with an event, -EAGAIN when the fed bytes are used up, or an error
 * that fails the session: a framing error, -EPROTO (a handshake frame after the handshake
 * or a data frame before its end), -EMSGSIZE, -EBADMSG (authentication failed), -EINVAL
 * (out too small, or a low-order key). */
int noise_session_next(struct noise_session *s, uint8_t *out, size_t cap,
		       struct noise_session_event *ev);

/* Bytes noise_session_seal writes for len bytes of plaintext. */
size_t noise_session_sealed_len(size_t len);

/* Encrypts len bytes into as many data frames as needed (each at most 65519 bytes of
 * plaintext). Returns 0, -EPROTO (handshake not finished), -ENOSPC, -EOVERFLOW. */
int noise_session_seal(struct noise_session *s, const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap, size_t *written);

bool noise_session_established(const struct noise_session *s);

/* The peer's static key once the handshake is done. Returns 0 or -EAGAIN. */
int noise_session_remote_static(const struct noise_session *s, uint8_t out[NOISE_DH_LEN]);

/* The handshake hash h of this session once the handshake is done (channel binding: the
 * client link signs it in AUTH). Returns 0 or -EAGAIN. */
int noise_session_handshake_hash(const struct noise_session *s, uint8_t out[NOISE_HASH_LEN]);

void noise_session_clear(struct noise_session *s);

#endif
