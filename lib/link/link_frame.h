/* The client <-> entry gateway link: typed, length-prefixed frames carried in the decrypted
 * byte stream of the Noise XK transport (TCP 9000; docs/PROTOCOLS.md, "Client link"). Nym
 * speaks WebSocket here; we reuse the node transport's Noise and put our own frames in it.
 *
 *     type u8 | reserved u8 = 0 | body length u16 BE | body
 *
 * Every type has fixed bounds for its body length and one or both senders (client, gateway),
 * and the header is checked against them as soon as its bytes arrive: a peer cannot make the
 * other side buffer a frame the type could never fill, nor send the other side's types. The
 * largest frame is 4 + 65535 bytes; a frame may span several Noise frames and one Noise
 * frame may hold several frames. */
#ifndef NYM_LINK_LINK_FRAME_H
#define NYM_LINK_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/framer.h"

#define LINK_FRAME_HEADER_LEN 4
#define LINK_FRAME_MAX_BODY 65535
#define LINK_FRAME_MAX_LEN (LINK_FRAME_HEADER_LEN + LINK_FRAME_MAX_BODY)

enum link_msg_type {
	LINK_MSG_HELLO = 0x01,	      /* c->g: versions the client speaks */
	LINK_MSG_VERSION = 0x02,      /* g->c: the version the gateway picked */
	LINK_MSG_AUTH = 0x03,	      /* c->g: identity, timestamp, signature */
	LINK_MSG_AUTH_OK = 0x04,      /* g->c: authenticated, with the balance */
	LINK_MSG_SPEND_TICKET = 0x05, /* c->g: a bandwidth ticket */
	LINK_MSG_BANDWIDTH = 0x06,    /* g->c: the balance after a spend */
	LINK_MSG_LOW_BALANCE = 0x07,  /* g->c: the balance fell under the warning level */
	LINK_MSG_SEND = 0x08,	      /* c->g: Sphinx packets to forward */
	LINK_MSG_RECEIVE = 0x09,      /* g->c: messages delivered to the client */
	LINK_MSG_ERROR = 0x0a,	      /* both: code and text */
	LINK_MSG_CLOSE = 0x0b,	      /* both: graceful end of the link */
	/* WireGuard registration (link_wg.h) */
	LINK_MSG_WG_INIT = 0x0c,       /* c->g: the client's WireGuard key */
	LINK_MSG_WG_PENDING = 0x0d,    /* g->c: nonce, gateway key, address pair, port, MAC */
	LINK_MSG_WG_FINAL = 0x0e,      /* c->g: the client's MAC and a wg-entry / wg-exit ticket */
	LINK_MSG_WG_REGISTERED = 0x0f, /* g->c: address pair, port, gateway key, balance */
	LINK_MSG_WG_QUERY = 0x10,      /* c->g: the bandwidth left for a key */
	LINK_MSG_WG_BANDWIDTH = 0x11,  /* g->c: answer to WG_QUERY and WG_TOPUP */
	LINK_MSG_WG_TOPUP = 0x12,      /* c->g: a ticket for a registered key */
};
#define LINK_MSG_TYPE_MIN LINK_MSG_HELLO
#define LINK_MSG_TYPE_MAX LINK_MSG_WG_TOPUP

/* Who sent a frame; a decoder is built for one side and refuses the other side's types. */
enum link_side {
	LINK_FROM_CLIENT = 1,
	LINK_FROM_GATEWAY = 2,
};

struct link_frame_header {
	uint8_t type; /* enum link_msg_type */
	uint16_t len; /* body bytes */
};

struct link_frame {
	struct link_frame_header header;
	const uint8_t *body;
	size_t body_len;
};

/* "hello", "version", ...; NULL for an unknown type. */
const char *link_msg_type_name(unsigned type);

/* Whether `from` may send `type`: false for unknown types. */
bool link_msg_type_allowed(unsigned type, enum link_side from);

/* The bounds of a type's body length; -EINVAL for an unknown type. */
int link_msg_body_bounds(unsigned type, size_t *min, size_t *max);

/* Writes the header of a frame of `type` with a body of body_len bytes. Returns 0, -EINVAL
 * (unknown type) or -EMSGSIZE (a length outside the type's bounds). */
int link_frame_header_encode(unsigned type, size_t body_len, uint8_t out[LINK_FRAME_HEADER_LEN]);

/* Reads a header sent by `from` from the start of in. Returns 0; -EAGAIN if in is too short
 * to tell; -EINVAL for an unknown type, a type `from` may not send, or a nonzero reserved
 * byte; -EMSGSIZE for a length outside the type's bounds. Bad bytes are refused as soon as
 * they are present. */
int link_frame_header_decode(const uint8_t *in, size_t len, enum link_side from,
			     struct link_frame_header *h);

/* Streaming decoder with mix_frame_decoder's contract (util/framer): feed each chunk of the
 * decrypted stream, take frames until -EAGAIN; a frame points into the chunk or into the
 * decoder; errors are sticky and nothing from the bad header on counts as consumed. About
 * 64 KiB: embed it in the connection state. */
struct link_frame_decoder {
	struct framer f;
	enum link_side from;
	uint8_t buf[LINK_FRAME_MAX_LEN];
};

/* `from` is the peer: LINK_FROM_CLIENT in the gateway, LINK_FROM_GATEWAY in the client. */
void link_frame_decoder_init(struct link_frame_decoder *d, enum link_side from);
int link_frame_decoder_feed(struct link_frame_decoder *d, const uint8_t *data, size_t len);
int link_frame_decoder_next(struct link_frame_decoder *d, struct link_frame *out);
size_t link_frame_decoder_consumed(const struct link_frame_decoder *d);
size_t link_frame_decoder_buffered(const struct link_frame_decoder *d);

#endif
